import { CARRIERS, chooseCarrier, newShipment, shipmentId, toShipmentView, trackingNumber } from "../../../../services/shipping/model";

describe("shipping model", () => {
	it("chooses the same carrier and tracking number for the same order every time", () => {
		expect(chooseCarrier("ord_1")).toBe(chooseCarrier("ord_1"));
		expect(trackingNumber("ord_1", "UPS")).toBe(trackingNumber("ord_1", "UPS"));
		expect(shipmentId("ord_1")).toBe(shipmentId("ord_1"));
		expect(shipmentId("ord_1")).not.toBe(shipmentId("ord_2"));
	});

	it("spreads orders over every carrier", () => {
		const seen = new Set(Array.from({ length: 200 }, (_, i) => chooseCarrier(`ord_${i}`)));
		expect([...seen].sort()).toEqual([...CARRIERS].sort());
	});

	it.each([
		["UPS", /^1Z[0-9A-F]{16}$/],
		["FedEx", /^\d{12}$/],
		["DHL", /^\d{10}$/],
		["USPS", /^9400\d{18}$/],
	])("formats %s tracking numbers like the carrier does", (carrier, pattern) => {
		expect(trackingNumber("ord_x", carrier)).toMatch(pattern);
	});

	it("keeps only product ids, names and quantities of the items", () => {
		const doc = newShipment({ order_id: "o", user_id: "u", items: [{ product_id: "p", quantity: 2, name: "P" }] }, "PREPARING", new Date(0));
		expect(doc.items).toEqual([{ product_id: "p", quantity: 2, name: "P" }]);
		expect(doc).toMatchObject({ status: "PREPARING", deliver_at: null, history: [{ status: "PREPARING" }] });
	});

	it("shows the delivery time as an ISO date and hides the claim", () => {
		const doc = { ...newShipment({ order_id: "o", user_id: "u" }, "PREPARING", new Date(0)), deliver_at: 1000 };
		const view = toShipmentView(doc);
		expect(view.deliver_at).toBe("1970-01-01T00:00:01.000Z");
		expect(view).not.toHaveProperty("claimed_at");
	});
});
