import { pageWindow, pagingParams, toPage } from "../../../../services/common/paging";

describe("paging", () => {
	it("computes page windows and totals", () => {
		expect(pageWindow(3, 20)).toEqual({ offset: 40, limit: 20 });
		expect(toPage([1, 2], 41, 3, 20)).toEqual({ rows: [1, 2], total: 41, page: 3, page_size: 20, total_pages: 3 });
		expect(toPage([], 0, 1, 20).total_pages).toBe(0);
	});

	it("refuses pages above 100 rows and defaults to 20", () => {
		expect(pagingParams.page_size).toMatchObject({ max: 100, default: 20 });
	});
});
