import { availabilityAnswer, fellBelow, mergeItems, mergeLines, planAllocation, rowId, summarise, type StockRow } from "../../../../services/inventory/model";

const row = (warehouse_id: string, on_hand: number, reserved = 0): StockRow => ({
	id: rowId("p", warehouse_id),
	product_id: "p",
	warehouse_id,
	on_hand,
	reserved,
	available: on_hand - reserved,
	updated_at: "t",
});

describe("inventory model", () => {
	it("takes from the fullest warehouse first and splits only when needed", () => {
		const rows = [row("wh-a", 3), row("wh-b", 5), row("wh-c", 0)];
		expect(planAllocation(rows, 4)).toEqual([{ row_id: "p@wh-b", warehouse_id: "wh-b", quantity: 4 }]);
		expect(planAllocation(rows, 7)).toEqual([
			{ row_id: "p@wh-b", warehouse_id: "wh-b", quantity: 5 },
			{ row_id: "p@wh-a", warehouse_id: "wh-a", quantity: 2 },
		]);
	});

	it("plans nothing when the warehouses together hold too little", () => {
		expect(planAllocation([row("wh-a", 3), row("wh-b", 2, 1)], 5)).toBeNull();
		expect(planAllocation([], 1)).toBeNull();
	});

	it("merges items and lines of the same product (and warehouse)", () => {
		expect(mergeItems([{ product_id: "a", quantity: 1 }, { product_id: "b", quantity: 2 }, { product_id: "a", quantity: 3 }])).toEqual([
			{ product_id: "a", quantity: 4 },
			{ product_id: "b", quantity: 2 },
		]);
		expect(mergeLines([{ product_id: "a", warehouse_id: "w", quantity: 1 }, { product_id: "a", warehouse_id: "w", quantity: 2 }])).toEqual([
			{ product_id: "a", warehouse_id: "w", quantity: 3 },
		]);
	});

	it("sums levels over warehouses", () => {
		expect(summarise("p", [row("wh-b", 5, 2), row("wh-a", 3)])).toEqual({
			product_id: "p",
			on_hand: 8,
			reserved: 2,
			available: 6,
			warehouses: [
				{ warehouse_id: "wh-a", on_hand: 3, reserved: 0, available: 3 },
				{ warehouse_id: "wh-b", on_hand: 5, reserved: 2, available: 3 },
			],
		});
	});

	it("calls stock low only when it crosses below the threshold", () => {
		expect(fellBelow(6, 4, 5)).toBe(true);
		expect(fellBelow(5, 4, 5)).toBe(true);
		expect(fellBelow(4, 3, 5)).toBe(false);
		expect(fellBelow(9, 5, 5)).toBe(false);
	});

	it("answers availability per item", () => {
		const res = availabilityAnswer([{ product_id: "a", quantity: 2 }, { product_id: "b", quantity: 1 }], new Map([["a", 2]]));
		expect(res).toEqual({
			ok: false,
			items: [
				{ product_id: "a", requested: 2, available: 2, ok: true },
				{ product_id: "b", requested: 1, available: 0, ok: false },
			],
		});
	});
});
