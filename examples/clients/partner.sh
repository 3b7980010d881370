#!/usr/bin/env bash
# One partner journey against the sandbox from curl with its default settings (or with the curl
# options given after the first three arguments, e.g. --http2, which asks for an h2c upgrade): the
# token, a credit to a new holder, its retry, the card's balance, a reused reference and a request
# missing a field. Prints one JSON line per call: {"step", "status", "body"}, the body as sent.
#
#     bash partner.sh [BASE_URL] [LABEL] [MOBILE] [curl options...]
set -euo pipefail
base=${1:-http://127.0.0.1:8080} label=${2:-curl} mobile=${3:-9400000002}
shift $(( $# < 3 ? $# : 3 ))
body=$(mktemp)
trap 'rm -f "$body"' EXIT

show() {  # show STEP curl-arguments...: one JSON line, the body left in $body
  local step=$1 status
  shift
  status=$(curl -sS "$@" -o "$body" -w '%{http_code}')
  printf '{"step":"%s","status":%s,"body":%s}\n' "$step" "$status" "$(cat "$body")"
}
post() {  # post STEP PATH JSON
  show "$1" "${curl_options[@]}" "$base/api/v0/partner/enKashCard$2" \
    -H 'partnerId: CRMXWB3ZM' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$3"
}
curl_options=("$@")

show token "${curl_options[@]}" "$base/oauth/token" -u CEK1GZBO6A:64b0ff0332f058b56402b63a9baa60214f2d61d3 \
  -d username=9167019711 -d 'password=Test@1234567' -d grant_type=password -d clientId=CEK1GZBO6A
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$body")
holder='"companyId":"CEK1PU9AOO","cardAccountId":"CAQL8YCV3","transactionCode":"ALLOCATION","type":"ALLOCATE_POINT",'
holder+="\"email\":\"$label@clients.example.com\",\"mobile\":\"$mobile\",\"title\":\"Ms\",\"firstName\":\"Partner\","
holder+="\"gender\":\"F\",\"uniqueReferenceNumber\":\"CLIENTS-$label-1\""
post credit /create-allocate-points "{$holder,\"transactionType\":\"CR\",\"loadAmount\":12.5}"
card=$(sed -n 's/.*"enKashCardId":"\([^"]*\)".*/\1/p' "$body")
post retry /create-allocate-points "{$holder,\"transactionType\":\"CR\",\"loadAmount\":12.5}"
post balance /search "{\"companyId\":\"CEK1PU9AOO\",\"cardAccountId\":\"CAQL8YCV3\",\"enKashCardId\":\"$card\"}"
post duplicate /create-allocate-points "{$holder,\"transactionType\":\"CR\",\"loadAmount\":5}"
post missing /create-allocate-points "{$holder,\"loadAmount\":12.5}"
