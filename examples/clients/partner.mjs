// One partner journey against the sandbox from Node's global fetch (Node 18+), default settings:
// the token, a credit to a new holder, its retry, the card's balance, a reused reference and a
// request missing a field. Prints one JSON line per call: {"step", "status", "body"}.
//
//     node partner.mjs [BASE_URL] [LABEL] [MOBILE]
const [base = "http://127.0.0.1:8080", label = "fetch", mobile = "9400000005"] = process.argv.slice(2);
const CLIENT_ID = "CEK1GZBO6A", CLIENT_SECRET = "64b0ff0332f058b56402b63a9baa60214f2d61d3";
const LOGIN = { username: "9167019711", password: "Test@1234567", grant_type: "password", clientId: CLIENT_ID };
const PARTNER_ID = "CRMXWB3ZM", COMPANY = "CEK1PU9AOO", ACCOUNT = "CAQL8YCV3";

async function show(step, response) {
  const body = await response.json();
  console.log(JSON.stringify({ step, status: response.status, body }));
  return body;
}

const basic = "Basic " + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64");
const token = await show("token", await fetch(`${base}/oauth/token`, {
  method: "POST", headers: { Authorization: basic }, body: new URLSearchParams(LOGIN),
}));
const headers = { partnerId: PARTNER_ID, Authorization: `Bearer ${token.access_token}`, "Content-Type": "application/json" };
const api = `${base}/api/v0/partner/enKashCard`;
const post = (path, body) => fetch(`${api}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
const credit = {
  companyId: COMPANY, cardAccountId: ACCOUNT, transactionCode: "ALLOCATION", transactionType: "CR",
  type: "ALLOCATE_POINT", email: `${label}@clients.example.com`, mobile, title: "Ms",
  firstName: "Partner", gender: "F", loadAmount: 12.5, uniqueReferenceNumber: `CLIENTS-${label}-1`,
};
const card = (await show("credit", await post("/create-allocate-points", credit))).payload;
await show("retry", await post("/create-allocate-points", credit));
await show("balance", await post("/search", { companyId: COMPANY, cardAccountId: ACCOUNT, enKashCardId: card.enKashCardId }));
await show("duplicate", await post("/create-allocate-points", { ...credit, loadAmount: 5 }));
const { transactionType, ...missing } = credit;
await show("missing", await post("/create-allocate-points", missing));
