// @vitest-environment happy-dom
/**
 * The audit page's wiring: what each filter control asks ListAuditEvents for,
 * "Load more" with the previous answer's page token, the events as a person
 * reads them (job linked), the empty states, the date-range problem beside its
 * control, and the roles that do not see the trail told which would. The
 * transfer client here answers from a list of pages: the service itself is
 * tested in test/transfer, and the page in a real browser in
 * test/web/export-and-jobs.test.ts.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditAction, AuditCountsSchema, AuditEventSchema, AuditOutcome } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import type { ListAuditEventsRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../../../web/src/api/transfer-client.js";
import { AppContext } from "../../../web/src/app-context.js";
import { AuditPage } from "../../../web/src/audit/audit-page.js";
import { capabilitiesOf } from "../../../web/src/auth/capabilities.js";

afterEach(cleanup);

const event = (id: string, patch: Omit<MessageInitShape<typeof AuditEventSchema>, "$typeName"> = {}) =>
  create(AuditEventSchema, {
    id,
    time: timestampFromDate(new Date("2026-12-01T10:00:00Z")),
    service: "transfer",
    action: AuditAction.EXPORT,
    subject: "exporter",
    entity: "users",
    format: "csv",
    fields: ["status", "username"],
    counts: create(AuditCountsSchema, { exported: 4n }),
    outcome: AuditOutcome.SUCCEEDED,
    jobId: `job-${id}`,
    ...patch,
  });

/** Renders the page for `roles` with a client whose ListAuditEvents answers `pages` in turn. */
function renderPage(roles: string[], pages: { events: ReturnType<typeof event>[]; nextPageToken: string }[]) {
  const listAuditEvents = vi.fn(async (_request: ListAuditEventsRequest) => pages.shift() ?? { events: [], nextPageToken: "" });
  const client = { listAuditEvents } as unknown as TransferClient;
  const session = { name: "Aude Auditor", roles } as never;
  render(
    <AppContext.Provider value={{ session, capabilities: capabilitiesOf(roles), client, accessToken: async () => undefined }}>
      <AuditPage />
    </AppContext.Provider>,
  );
  return listAuditEvents;
}

const lastFilter = (calls: ReturnType<typeof renderPage>) => calls.mock.lastCall![0].filter!;

describe("the audit page", () => {
  it("lists the trail's events: who, what, fields in their order, counts, outcome, and a link to the job", async () => {
    renderPage(
      ["auditor"],
      [
        {
          events: [
            event("e1"),
            event("e2", {
              action: AuditAction.IMPORT,
              subject: "transfer-service",
              onBehalfOf: "importer",
              outcome: AuditOutcome.FAILED,
              error: "bad rows",
              counts: create(AuditCountsSchema, { read: 3n, inserted: 2n, failed: 1n }),
              fields: [],
            }),
          ],
          nextPageToken: "",
        },
      ],
    );
    const rows = await screen.findAllByRole("row");
    expect(rows.map((r) => r.textContent)).toEqual([
      "WhenWhoActionEntityFormatFieldsCountsOutcomeJob",
      "2026-12-01 10:00:00 UTCexporterexportuserscsvstatus, username4 exportedsucceededJob",
      "2026-12-01 10:00:00 UTCtransfer-service for importerimportuserscsv3 read, 2 new, 1 failedfailed bad rowsJob",
    ]);
    expect(within(rows[1]!).getByRole("link", { name: "Job" }).getAttribute("href")).toBe("#/jobs/job-e1");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("asks for the events each filter control names: who, action, entity and a range of days", async () => {
    const calls = renderPage(["auditor"], []);
    await screen.findByText("No events yet. Every export and import is recorded here.");
    expect(lastFilter(calls)).toMatchObject({ subject: "", action: AuditAction.UNSPECIFIED, entity: "" });
    fireEvent.change(screen.getByLabelText("Action"), { target: { value: String(AuditAction.EXPORT) } });
    fireEvent.change(screen.getByLabelText("Who"), { target: { value: "exporter" } });
    fireEvent.change(screen.getByLabelText("Entity"), { target: { value: "courses" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-12-01" } });
    await waitFor(() => expect(lastFilter(calls)).toMatchObject({ subject: "exporter", action: AuditAction.EXPORT, entity: "courses" }));
    expect(lastFilter(calls).from).toBeDefined();
    expect(await screen.findByText("No event matches these filters.")).toBeTruthy();
  });

  it("says a range that ends before it starts beside the To date, and asks nothing for it", async () => {
    const calls = renderPage(["admin"], []);
    await screen.findByText(/No events yet/);
    const asked = calls.mock.calls.length;
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-12-05" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-12-01" } });
    const to = screen.getByLabelText("To");
    expect(to.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(to.getAttribute("aria-describedby")!)?.textContent).toBe("The end date is before the start date.");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(calls.mock.calls.length).toBe(asked);
  });

  it("loads the next page with the previous answer's token and adds its events below", async () => {
    const calls = renderPage(
      ["auditor"],
      [
        { events: [event("e1")], nextPageToken: "page-2" },
        { events: [event("e2")], nextPageToken: "" },
      ],
    );
    fireEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByRole("row").map((r) => r.getAttribute("data-event-id"))).toEqual([null, "e1", "e2"]));
    expect(calls.mock.lastCall![0].pageToken).toBe("page-2");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("tells an exporter which roles read the audit trail, and asks the service nothing", () => {
    const calls = renderPage(["exporter", "pii"], []);
    expect(screen.getByRole("note").textContent).toBe("Reading the audit trail needs the auditor or admin role; your roles do not include it.");
    expect(calls).not.toHaveBeenCalled();
  });
});
