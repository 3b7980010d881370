"""The docs' own sample flow, verbatim, against a fresh default sandbox."""

from conftest import DOCS_BASIC, PARTNER_PATH


def test_docs_sample_allocation_works_as_printed(http):
    token = http.post(
        "/oauth/token",
        headers={"Authorization": DOCS_BASIC, "Content-Type": "application/x-www-form-urlencoded"},
        content="username=9167019711&password=Test@1234567&grant_type=password&clientId=CEK1GZBO6A",
    )
    assert token.status_code == 200
    body = token.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86399 and body["scope"] == "read write trust"

    response = http.post(
        PARTNER_PATH + "/create-allocate-points",
        headers={"partnerId": "CRMXWB3ZM", "authorization": "Bearer " + body["access_token"], "Content-Type": "application/json"},
        content=(
            '{"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3", "transactionCode": "ALLOCATION",'
            ' "transactionType": "CR", "type": "ALLOCATE_POINT", "email": "xyz2@gmail.com", "mobile": "9600098867",'
            ' "title": "Mr", "firstName": "hedfdfg", "gender": "M", "loadAmount": 11, "uniqueReferenceNum": "TEST234236"}'
        ),
    )
    assert response.status_code == 200
    result = response.json()
    assert result["code"] == 0 and result["message"] == "Success"
    payload = result["payload"]
    assert payload["pgReferenceNumber"] == "TEST234236"
    assert payload["otbBalance"] == 11
    assert payload["maskedNumber"] == "XXXX XXXX XXXX 8867"
    assert payload["cardAccountId"] == "CAQL8YCV3"
