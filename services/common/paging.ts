/**
 * Pages of a list: the `page`/`page_size` query parameters every list action takes, and the page it answers.
 */

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Pages: query values arrive as strings, so numbers are converted; above 100 rows a page is refused. */
export const pagingParams = {
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
	page_size: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, convert: true, default: DEFAULT_PAGE_SIZE },
} as const;

/** Offset and limit of a page (pages count from 1). */
export function pageWindow(page: number, pageSize: number): { offset: number; limit: number } {
	return { offset: (page - 1) * pageSize, limit: pageSize };
}

/** A page of rows with its totals. */
export function toPage<T>(rows: T[], total: number, page: number, pageSize: number): Page<T> {
	return { rows, total, page, page_size: pageSize, total_pages: Math.ceil(total / pageSize) };
}
