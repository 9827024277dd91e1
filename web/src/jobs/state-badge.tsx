import type { JobState } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { STATE_TEXT } from "./job-text.js";

/** A job's state as a coloured word (the colour repeats the word; it never stands alone). */
export function StateBadge({ state }: { state: JobState }) {
  const text = STATE_TEXT[state] ?? "unknown";
  return <span className={`badge badge-${text}`}>{text}</span>;
}
