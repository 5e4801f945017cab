// Reads a JSON array of AG-UI event streams on stdin; writes, for each, what the official
// client's verifyEvents made of it: {ok, passed, error} (passed: events accepted before the
// first error).
import { verifyEvents } from "@ag-ui/client";
import { from } from "rxjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const streams = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const verdicts = streams.map((events) => {
  let passed = 0;
  let error = null;
  from(events)
    .pipe(verifyEvents())
    .subscribe({
      next: () => {
        passed += 1;
      },
      error: (e) => {
        error = String(e && e.message ? e.message : e);
      },
    });
  return { ok: error === null, passed, error };
});
process.stdout.write(JSON.stringify(verdicts));
