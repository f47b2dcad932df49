import { parseBehavior } from "../../../../../services/common/behavior";
import { actionRule, decide, describeDecision, eventRules, isBehavior } from "../../../../../config/middlewares/behavior/resolve";

const chaos = parseBehavior("latency=20-100ms,error=0.05,payment:error=0.1,inventory:latency=100-500ms,message-bus:error=0.15");

describe("actionRule", () => {
	it("overrides the rules for every service key by key with the service's own section", () => {
		expect(actionRule(chaos, "payments")).toEqual({ latency: { min: 20, max: 100 }, error: { code: 500, probability: 0.1 } });
		expect(actionRule(chaos, "inventory")).toEqual({ latency: { min: 100, max: 500 }, error: { code: 500, probability: 0.05 } });
		expect(actionRule(chaos, "users")).toEqual({ latency: { min: 20, max: 100 }, error: { code: 500, probability: 0.05 } });
	});

	it("spares the gateway and internal services from rules meant for every service", () => {
		expect(actionRule(chaos, "api")).toBeNull();
		expect(actionRule(chaos, "$node")).toBeNull();
		expect(actionRule(parseBehavior("api-gateway:latency=10ms"), "api")).toEqual({ latency: { min: 10, max: 10 }, error: undefined });
	});

	it("finds nothing without a behavior or a matching section", () => {
		expect(actionRule(undefined, "payments")).toBeNull();
		expect(actionRule(parseBehavior("payment:error=0.5"), "inventory")).toBeNull();
	});
});

describe("eventRules", () => {
	it("applies message-bus rules to the event handlers of every service, then the service's own", () => {
		const b = parseBehavior("message-bus:error=0.3,notification:latency=5ms");
		expect(eventRules(b, "notifications").map(r => r.target)).toEqual(["message-bus", "notifications"]);
		expect(eventRules(b, "reviews").map(r => r.target)).toEqual(["message-bus"]);
	});

	it("does not apply the rules for every service to event delivery", () => {
		expect(eventRules(parseBehavior("error=0.5"), "notifications")).toEqual([]);
	});
});

describe("decide", () => {
	it("draws a delay inside the range and an error below the probability", () => {
		const rule = { latency: { min: 500, max: 1000 }, error: { code: 503, probability: 0.5 } };
		expect(decide("payments", rule, () => 0)).toEqual({ target: "payments", delayMs: 500, errorCode: 503 });
		expect(decide("payments", rule, () => 0.99)).toEqual({ target: "payments", delayMs: 995, errorCode: null });
	});

	it("never fails with probability 0 and always fails with probability 1", () => {
		expect(decide("*", { error: { code: 500, probability: 0 } }, () => 0).errorCode).toBeNull();
		expect(decide("*", { error: { code: 500, probability: 1 } }, () => 0.999).errorCode).toBe(500);
	});

	it("describes what it decided", () => {
		expect(describeDecision({ target: "*", delayMs: 120, errorCode: 500 })).toBe("latency 120ms, error 500");
		expect(describeDecision({ target: "*", delayMs: 0, errorCode: null })).toBeNull();
	});
});

describe("isBehavior", () => {
	it("accepts parsed behaviors and refuses other shapes", () => {
		expect(isBehavior(chaos)).toBe(true);
		expect(isBehavior({})).toBe(true);
		expect(isBehavior("payment:error=0.5")).toBe(false);
		expect(isBehavior({ payments: { error: { code: "503" } } })).toBe(false);
		expect(isBehavior(null)).toBe(false);
	});
});
