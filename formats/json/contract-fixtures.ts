/** Malformed JSON the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "../_sdk/index.js";

export const contractFixtures: ContractFixture[] = [
  {
    name: "an element that is not an object is a row error and the next element still imports",
    input: '[{"a":1}, 2, "three", [4], null, {"a":6}]',
    rows: 2,
    errors: [{ row: 2 }, { row: 3 }, { row: 4 }, { row: 5 }],
  },
  {
    name: "broken syntax inside an element is fatal and names the element",
    input: '[{"a":1}, {"a":2}, {"a": tru}, {"a":4}]',
    rows: 2,
    errors: [],
    fatal: { row: 3 },
  },
  {
    name: "a missing comma between elements is fatal and names the element after it",
    input: '[{"a":1} {"a":2}]',
    rows: 1,
    errors: [],
    fatal: { row: 2 },
  },
  {
    name: "a file cut off inside an element is fatal",
    input: '[{"a":1}, {"a":"cut',
    rows: 1,
    errors: [],
    fatal: { row: 2 },
  },
  {
    name: "a top-level object instead of an array is fatal at the first row",
    input: '{"a":1}',
    rows: 0,
    errors: [],
    fatal: { row: 1 },
  },
];
