/** The strict date parser behind the `date` mapping transform. */
import { describe, expect, it } from "vitest";
import { compileDateFormat, TransferSettingsError } from "../../../services/transfer/core/index.js";

describe("date formats", () => {
  it("read day-first dates as UTC midnight", () => {
    const f = compileDateFormat("DD/MM/YYYY");
    expect(f.parse("07/03/2024")).toEqual(new Date("2024-03-07T00:00:00Z"));
    expect(f.parse("29/02/2024")).toEqual(new Date("2024-02-29T00:00:00Z"));
  });

  it("read dates with hours, minutes and seconds", () => {
    expect(compileDateFormat("YYYY-MM-DD HH:mm").parse("2024-03-07 14:30")).toEqual(new Date("2024-03-07T14:30:00Z"));
    expect(compileDateFormat("YYYYMMDDTHHmmss").parse("20240307T143005")).toEqual(new Date("2024-03-07T14:30:05Z"));
    expect(compileDateFormat("MM.DD.YYYY").parse("12.31.0099")).toEqual(new Date("0099-12-31T00:00:00Z"));
  });

  it("refuse anything that does not match exactly", () => {
    const f = compileDateFormat("DD/MM/YYYY");
    for (const text of ["7/3/2024", "07/03/24", "07-03-2024", " 07/03/2024", "07/03/2024 10:00", "2024-03-07", "", "aa/bb/cccc"]) {
      expect(f.parse(text), text).toBeUndefined();
    }
  });

  it("refuse impossible dates and times instead of rolling them over", () => {
    expect(compileDateFormat("DD/MM/YYYY").parse("31/02/2024")).toBeUndefined();
    expect(compileDateFormat("DD/MM/YYYY").parse("29/02/2023")).toBeUndefined();
    expect(compileDateFormat("DD/MM/YYYY").parse("29/02/1900")).toBeUndefined();
    expect(compileDateFormat("DD/MM/YYYY").parse("29/02/2000")).toEqual(new Date("2000-02-29T00:00:00Z"));
    expect(compileDateFormat("DD/MM/YYYY").parse("01/13/2024")).toBeUndefined();
    expect(compileDateFormat("DD/MM/YYYY").parse("00/01/2024")).toBeUndefined();
    expect(compileDateFormat("YYYY-MM-DD HH:mm").parse("2024-01-01 24:00")).toBeUndefined();
    expect(compileDateFormat("YYYY-MM-DD HH:mm:ss").parse("2024-01-01 23:59:60")).toBeUndefined();
  });

  it("treat other characters, including regex ones, as literals", () => {
    expect(compileDateFormat("(YYYY).MM*DD").parse("(2024).03*07")).toEqual(new Date("2024-03-07T00:00:00Z"));
    expect(compileDateFormat("(YYYY).MM*DD").parse("(2024)x03*07")).toBeUndefined();
  });

  it("are settings errors when they lack a year, month or day or repeat a token", () => {
    for (const format of ["DD/MM", "HH:mm", "YYYY-MM-DD-DD", "dd/mm/yyyy"]) {
      expect(() => compileDateFormat(format), format).toThrow(TransferSettingsError);
    }
  });
});
