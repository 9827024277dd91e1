/** Malformed JSON the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";

export const contractFixtures: ContractFixture[] = [
  {
    name: "row errors in a pretty-printed file carry the line where the element starts",
    input: '[\n  {"a": 1},\n  2,\n  {\n    "a": 3\n  },\n  "four"\n]\n',
    rows: 2,
    errors: [
      { row: 2, line: 3 },
      { row: 4, line: 7 },
    ],
  },
  {
    name: "an empty file is refused as a whole, not read as zero rows",
    input: "",
    rows: 0,
    errors: [],
    fatal: { line: 1 },
  },
  {
    name: "an element that is not an object is a row error and the next element still imports",
    input: '[{"a":1}, 2, "three", [4], null, {"a":6}]',
    rows: 2,
    errors: [{ row: 2 }, { row: 3 }, { row: 4 }, { row: 5 }],
  },
  {
    name: "an element whose object gives a key twice, nested ones included, is a row error and the next element still imports",
    input: '[{"a":1},\n{"a":1,"b":2,"a":3},\n{"a":{"x":1,"x":2}},\n{"a":4}]',
    rows: 2,
    errors: [
      { row: 2, line: 2 },
      { row: 3, line: 3 },
    ],
  },
  {
    name: "broken syntax inside an element is fatal and names the element",
    input: '[{"a":1}, {"a":2}, {"a": tru}, {"a":4}]',
    rows: 2,
    errors: [],
    fatal: { row: 3, line: 1 },
  },
  {
    name: "a missing comma between elements is fatal and names the element after it",
    input: '[{"a":1} {"a":2}]',
    rows: 1,
    errors: [],
    fatal: { row: 2, line: 1 },
  },
  {
    name: "a file cut off inside an element is fatal",
    input: '[{"a":1}, {"a":"cut',
    rows: 1,
    errors: [],
    fatal: { row: 2, line: 1 },
  },
  {
    name: "a top-level object instead of an array is fatal at the first row",
    input: '{"a":1}',
    rows: 0,
    errors: [],
    fatal: { row: 1, line: 1 },
  },
];
