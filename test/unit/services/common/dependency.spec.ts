import { Errors } from "moleculer";
import { callDependency, isUnavailable } from "../../../../services/common/dependency";
import { NotFoundError } from "../../../../services/common/errors";

describe("callDependency", () => {
	it("passes answers through", async () => {
		await expect(callDependency("users", Promise.resolve(42))).resolves.toBe(42);
	});

	it("passes a client error of the callee through unchanged", async () => {
		const err = new NotFoundError("address", "addr_x");
		await expect(callDependency("users", Promise.reject(err))).rejects.toBe(err);
	});

	it.each([
		new Errors.ServiceNotAvailableError({ action: "orders.create" }),
		new Errors.ServiceNotFoundError({ action: "orders.create" }),
		new Errors.RequestTimeoutError({ action: "orders.create", nodeID: "n1" }),
		new Error("boom"),
	])("turns %p into a 503 naming the dependency", async err => {
		expect(isUnavailable(err)).toBe(true);
		await expect(callDependency("orders", Promise.reject(err))).rejects.toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE", data: { dependency: "orders" } });
	});
});
