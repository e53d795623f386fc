// A Smart-Logs-and-blog style Inngest app, served on loopback for inkflow's real-SDK tests
// (e2e/sdkapps). INNGEST_PKG names the SDK package to load ("inngest" is 3.x here, "inngest4"
// 4.x: see package.json), so the same functions run on each SDK version; on 3.x the blog
// review is an @inngest/workflow-kit Engine running a workflow. It prints "listening PORT"
// once it serves.
import http from "node:http";

const pkg = process.env.INNGEST_PKG || "inngest";
const { Inngest, NonRetriableError, version } = await import(pkg);
const { serve } = await import(pkg + "/node");
// workflow-kit 0.1.3 is built on inngest 3.x.
const workflowKit = version.startsWith("3.") ? await import("@inngest/workflow-kit") : null;

const inngest = new Inngest({ id: "smart-blog" });
const v3 = typeof inngest.createFunction === "function" && inngest.createFunction.length >= 3;

// createFunction(opts, trigger, handler) on both SDK versions (v4 takes triggers in opts).
function fn(opts, trigger, handler) {
  if (v3) return inngest.createFunction(opts, trigger, handler);
  const { onFailure, ...rest } = opts;
  return inngest.createFunction({ ...rest, triggers: [trigger], ...(onFailure ? { onFailure } : {}) }, handler);
}

const attempts = new Map();

// The blog workflow as the workflow-kit blog example runs it: review, wait for approval, apply.
const blogWorkflow = {
  name: "Review and apply",
  actions: [
    { id: "review", kind: "review", name: "Review the post" },
    { id: "approval", kind: "wait_for_approval", name: "Wait for approval" },
    { id: "apply", kind: "apply_changes", name: "Apply the changes", inputs: { by: "!ref($.state.approval.data.by)" } },
  ],
  edges: [
    { from: "$source", to: "review" },
    { from: "review", to: "approval" },
    { from: "approval", to: "apply" },
  ],
};

const engine = workflowKit && new workflowKit.Engine({
  loader: async () => blogWorkflow,
  actions: [
    { kind: "review", name: "Review", handler: async ({ event, step }) =>
      step.run("load post", () => ({ id: event.data.id, title: "Post " + event.data.id })) },
    { kind: "wait_for_approval", name: "Wait for approval", handler: async ({ step }) =>
      step.waitForEvent("wait for approval", { event: "blog-post.approve-ai-suggestions", timeout: "1d", match: "data.id" }) },
    { kind: "apply_changes", name: "Apply", handler: async ({ event, step, workflowAction }) =>
      step.run("apply changes", () => ({ id: event.data.id, by: workflowAction.inputs.by })) },
  ],
});

const review = fn({ id: "blog-review", name: "Blog post review" }, { event: "blog-post.updated" },
  async ({ event, step }) => {
    if (engine) {
      const run = await engine.run({ event, step });
      const approval = run.state.get("approval");
      if (!approval) return { status: "timed out" };
      return { status: "applied", applied: run.state.get("apply"), workflow: "workflow-kit" };
    }
    const post = await step.run("load post", () => ({ id: event.data.id, title: "Post " + event.data.id }));
    const approval = await step.waitForEvent("wait for approval", {
      event: "blog-post.approve-ai-suggestions", timeout: "1d", match: "data.id",
    });
    if (!approval) return { status: "timed out", post };
    const applied = await step.run("apply changes", () => ({ id: post.id, by: approval.data.by }));
    return { status: "applied", applied };
  });

const digest = fn({ id: "nightly-digest", name: "Nightly digest" }, { cron: "TZ=Europe/Lisbon 0 9 * * *" },
  async ({ event, step }) => {
    const items = await step.run("collect", () => ["a", "b", "c"]);
    await step.sendEvent("fan out", items.map((item) => ({ name: "logs/process", data: { item } })));
    return { sent: items.length, trigger: event.name, cron: event.data.cron };
  });

const processLog = fn({ id: "process-log", name: "Process a log", retries: 2 }, { event: "logs/process" },
  async ({ event, step }) => {
    return await step.run("process", () => {
      const n = (attempts.get(event.data.item) || 0) + 1;
      attempts.set(event.data.item, n);
      if (n === 1) throw new Error("flaky store for " + event.data.item);
      return { item: event.data.item, attempt: n };
    });
  });

const strict = fn({
  id: "strict", name: "Strict parser", retries: 3,
  onFailure: async ({ event, error }) => ({ reported: error.message, original: event.data.event.name }),
}, { event: "logs/strict" },
  async ({ step }) => {
    await step.run("parse", () => { throw new NonRetriableError("bad record"); });
    return "unreachable";
  });

const handler = serve({ client: inngest, functions: [review, digest, processLog, strict] });
const server = http.createServer((req, res) => {
  if (!req.url.startsWith("/api/inngest")) { res.statusCode = 404; res.end(); return; }
  handler(req, res);
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
