/** Malformed CSV the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";

export const contractFixtures: ContractFixture[] = [
  {
    name: "a row with a missing field is reported and the rows after it still import",
    input: "a,b,c\n1,2,3\n4,5\n6,7,8\n",
    rows: 2,
    errors: [{ row: 2, line: 3 }],
  },
  {
    name: "a row with an extra field is reported with the line it starts on, after a multi-line field",
    input: 'a,b\n"multi\nline",1\n2,3,4\n5,6\n',
    rows: 2,
    errors: [{ row: 2, line: 4 }],
  },
  {
    name: "text after a closing quote is a row error, not the end of the file",
    input: 'a,b\n"x"y,1\n2,3\n',
    rows: 1,
    errors: [{ row: 1, line: 2 }],
  },
  {
    name: "a quote left open at the end of the file is fatal and names the row where it opened",
    input: 'a,b\n1,2\n3,"never closed\n4,5\n',
    rows: 1,
    errors: [],
    fatal: { row: 2, line: 3 },
  },
];
