// Sends events to inkflow's /e/{key} intake with the real Inngest SDK, the way an existing
// Inngest app would: argv is the base URL and an event key. Prints one JSON object with what
// each send returned or threw.
import { Inngest } from "inngest";

const [baseUrl, eventKey] = process.argv.slice(2);
const client = (key) => new Inngest({ id: "inkflow-intake-test", eventKey: key, baseUrl, isDev: false });
const inngest = client(eventKey);

const one = await inngest.send({ name: "shop/order.placed", data: { order: 1 }, user: { email: "a@example.com" } });
const many = await inngest.send([
  { name: "shop/order.placed", data: { order: 2 }, id: "order-2" },
  { name: "shop/order.placed", data: { order: 3 }, ts: Date.now(), v: "2026-01-01.1" },
]);
const again = await inngest.send({ name: "shop/order.placed", data: { order: 2 }, id: "order-2" });

let refused = null;
try {
  await client("not-a-key").send({ name: "shop/order.placed", data: {} });
} catch (err) {
  refused = String(err && err.message ? err.message : err);
}
console.log(JSON.stringify({ one, many, again, refused }));
