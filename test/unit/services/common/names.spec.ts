import { resolveServiceName } from "../../../../services/common/names";

describe("resolveServiceName", () => {
	it("takes Moleculer names and the seed's names, in any case", () => {
		expect(resolveServiceName("orders")).toBe("orders");
		expect(resolveServiceName(" Payment ")).toBe("payments");
		expect(resolveServiceName("shopping-cart")).toBe("cart");
	});

	it("names no service for an object's inherited keys", () => {
		for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) expect(resolveServiceName(name)).toBeNull();
	});
});
