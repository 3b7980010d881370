// One partner journey against the sandbox from the JDK's java.net.http.HttpClient with its default
// settings (it prefers HTTP/2, so over http:// it asks for an h2c upgrade, which the sandbox
// declines by answering in HTTP/1.1): the token, a credit to a new holder, its retry, the card's
// balance, a reused reference and a request missing a field. Prints one JSON line per call:
// {"step", "status", "body"}, the body as the sandbox sent it. Java 11+, nothing to compile:
//
//     java Partner.java [BASE_URL] [LABEL] [MOBILE]
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Partner {
    static final String CLIENT_ID = "CEK1GZBO6A", CLIENT_SECRET = "64b0ff0332f058b56402b63a9baa60214f2d61d3";
    static final String USERNAME = "9167019711", PASSWORD = "Test@1234567";
    static final String PARTNER_ID = "CRMXWB3ZM", COMPANY = "CEK1PU9AOO", ACCOUNT = "CAQL8YCV3";
    static final HttpClient CLIENT = HttpClient.newHttpClient();

    static String show(String step, HttpRequest request) throws Exception {
        HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.printf("{\"step\":\"%s\",\"status\":%d,\"body\":%s}%n", step, response.statusCode(), response.body());
        return response.body();
    }

    static String field(String json, String name) {  // enough JSON for two string fields; a real client uses a library
        Matcher found = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        if (!found.find()) throw new IllegalStateException(name + " not in " + json);
        return found.group(1);
    }

    static String form(String... pairs) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pairs.length; i += 2) {
            if (out.length() > 0) out.append('&');
            out.append(URLEncoder.encode(pairs[i], StandardCharsets.UTF_8)).append('=')
               .append(URLEncoder.encode(pairs[i + 1], StandardCharsets.UTF_8));
        }
        return out.toString();
    }

    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
        String label = args.length > 1 ? args[1] : "java";
        String mobile = args.length > 2 ? args[2] : "9400000004";
        String basic = Base64.getEncoder().encodeToString((CLIENT_ID + ":" + CLIENT_SECRET).getBytes(StandardCharsets.UTF_8));
        String token = show("token", HttpRequest.newBuilder(URI.create(base + "/oauth/token"))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(
                "username", USERNAME, "password", PASSWORD, "grant_type", "password", "clientId", CLIENT_ID)))
            .build());
        String bearer = "Bearer " + field(token, "access_token");
        String api = base + "/api/v0/partner/enKashCard";
        String credit = String.format("{\"companyId\":\"%s\",\"cardAccountId\":\"%s\",\"transactionCode\":\"ALLOCATION\","
            + "\"transactionType\":\"CR\",\"type\":\"ALLOCATE_POINT\",\"email\":\"%s@clients.example.com\",\"mobile\":\"%s\","
            + "\"title\":\"Ms\",\"firstName\":\"Partner\",\"gender\":\"F\",\"loadAmount\":12.5,\"uniqueReferenceNumber\":\"CLIENTS-%s-1\"}",
            COMPANY, ACCOUNT, label, mobile, label);
        String card = field(show("credit", post(api + "/create-allocate-points", bearer, credit)), "enKashCardId");
        show("retry", post(api + "/create-allocate-points", bearer, credit));
        show("balance", post(api + "/search", bearer, String.format(
            "{\"companyId\":\"%s\",\"cardAccountId\":\"%s\",\"enKashCardId\":\"%s\"}", COMPANY, ACCOUNT, card)));
        show("duplicate", post(api + "/create-allocate-points", bearer, credit.replace("\"loadAmount\":12.5", "\"loadAmount\":5")));
        show("missing", post(api + "/create-allocate-points", bearer, credit.replace("\"transactionType\":\"CR\",", "")));
    }

    static HttpRequest post(String url, String bearer, String json) {
        return HttpRequest.newBuilder(URI.create(url))
            .header("partnerId", PARTNER_ID).header("Authorization", bearer).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }
}
