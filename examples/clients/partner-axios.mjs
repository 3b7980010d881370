// One partner journey against the sandbox from axios (installed next to this file by
// `npm ci`), default settings: the token, a credit to a new holder, its retry, the card's
// balance, a reused reference and a request missing a field. Prints one JSON line per call:
// {"step", "status", "body"}.
//
//     npm ci --prefix examples/clients && node examples/clients/partner-axios.mjs [BASE_URL] [LABEL] [MOBILE]
import axios from "axios";

const [base = "http://127.0.0.1:8080", label = "axios", mobile = "9400000006"] = process.argv.slice(2);
const CLIENT_ID = "CEK1GZBO6A", CLIENT_SECRET = "64b0ff0332f058b56402b63a9baa60214f2d61d3";
const LOGIN = { username: "9167019711", password: "Test@1234567", grant_type: "password", clientId: CLIENT_ID };
const PARTNER_ID = "CRMXWB3ZM", COMPANY = "CEK1PU9AOO", ACCOUNT = "CAQL8YCV3";

async function show(step, call) {
  // axios rejects a 4xx or 5xx by default; the answer is then on the error
  const response = await call.catch((error) => { if (error.response) return error.response; throw error; });
  console.log(JSON.stringify({ step, status: response.status, body: response.data }));
  return response.data;
}

const token = await show("token", axios.post(`${base}/oauth/token`, new URLSearchParams(LOGIN), {
  auth: { username: CLIENT_ID, password: CLIENT_SECRET },
}));
const headers = { partnerId: PARTNER_ID, Authorization: `Bearer ${token.access_token}` };
const api = `${base}/api/v0/partner/enKashCard`;
const post = (path, body) => axios.post(`${api}${path}`, body, { headers });  // an object goes as JSON
const credit = {
  companyId: COMPANY, cardAccountId: ACCOUNT, transactionCode: "ALLOCATION", transactionType: "CR",
  type: "ALLOCATE_POINT", email: `${label}@clients.example.com`, mobile, title: "Ms",
  firstName: "Partner", gender: "F", loadAmount: 12.5, uniqueReferenceNumber: `CLIENTS-${label}-1`,
};
const card = (await show("credit", post("/create-allocate-points", credit))).payload;
await show("retry", post("/create-allocate-points", credit));
await show("balance", post("/search", { companyId: COMPANY, cardAccountId: ACCOUNT, enKashCardId: card.enKashCardId }));
await show("duplicate", post("/create-allocate-points", { ...credit, loadAmount: 5 }));
const { transactionType, ...missing } = credit;
await show("missing", post("/create-allocate-points", missing));
