// Reads a JSON array of AG-UI event streams on stdin; writes, for each, the events the
// official client's transformChunks makes of it (chunks expanded), checked by verifyEvents:
// {out, error}.
import { transformChunks, verifyEvents } from "@ag-ui/client";
import { from } from "rxjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const streams = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = streams.map((events) => {
  const out = [];
  let error = null;
  from(events)
    .pipe(transformChunks(), verifyEvents())
    .subscribe({
      next: (event) => out.push(event),
      error: (e) => {
        error = String(e && e.message ? e.message : e);
      },
    });
  return { out, error };
});
process.stdout.write(JSON.stringify(results));
