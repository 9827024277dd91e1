/**
 * A paged list as a page shows it (the jobs and the audit trail): its error,
 * a loading line until the first page, an empty state that says whether the
 * filters or the history are why, the rows (kept in place while the next
 * answer loads: `aria-busy`, no layout jump), and **Load more** while there
 * are more pages.
 */
import type { ReactNode } from "react";
import type { PagedList } from "./use-paged-list.js";

export interface PagedListingProps<T> {
  list: PagedList<T>;
  /** Shown until the first page has come, e.g. "Loading jobs…". */
  loadingText: string;
  /** Shown for an empty first page. */
  emptyText: string;
  children(items: T[]): ReactNode;
}

export function PagedListing<T>({ list, loadingText, emptyText, children }: PagedListingProps<T>) {
  return (
    <>
      {list.error && (
        <p className="error" role="alert">
          {list.error}
        </p>
      )}
      <div aria-busy={list.loading} className="listing">
        {list.items === undefined ? !list.error && <p className="muted">{loadingText}</p> : list.items.length === 0 ? <p className="muted">{emptyText}</p> : children(list.items)}
      </div>
      {list.hasMore && (
        <button type="button" className="secondary" disabled={list.loading} onClick={list.loadMore}>
          Load more
        </button>
      )}
    </>
  );
}
