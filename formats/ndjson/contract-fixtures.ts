/** Malformed NDJSON the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";

export const contractFixtures: ContractFixture[] = [
  {
    name: "a line that is not valid JSON is a row error and the next line still imports",
    input: '{"a":1}\n{"a":\n{"a":3}\n',
    rows: 2,
    errors: [{ row: 2, line: 2 }],
  },
  {
    name: "a line whose object gives a key twice, nested ones included, is a row error and the next line still imports",
    input: '{"a":1,"a":2}\n{"a":{"x":1,"\\u0078":2}}\n{"a":3}\n',
    rows: 1,
    errors: [
      { row: 1, line: 1 },
      { row: 2, line: 2 },
    ],
  },
  {
    name: "blank lines are skipped but still counted as lines",
    input: '{"a":1}\n\n  \n[1,2]\n{"a":3}',
    rows: 2,
    errors: [{ row: 2, line: 4 }],
  },
  {
    name: "invalid UTF-8 on one line is a row error for that line only",
    input: Uint8Array.from([...Buffer.from('{"a":"'), 0xff, ...Buffer.from('"}\n{"a":2}\n')]),
    rows: 1,
    errors: [{ row: 1, line: 1 }],
  },
];
