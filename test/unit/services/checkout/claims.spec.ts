import { ServiceBroker } from "moleculer";
import { closeAdapter, connectAdapter, openAdapter, Repository, type StoreAdapter } from "../../../../mixins/db.mixin";
import { CART_CLAIM, CheckoutClaims, type RequestDoc } from "../../../../services/checkout/claims";
import { testConfig } from "../../../helpers/shop";

describe("checkout claims", () => {
	const broker = new ServiceBroker({ logger: false });
	const config = testConfig();
	let adapter: StoreAdapter;
	let repo: Repository<RequestDoc>;
	/** Two checkout nodes that both stay up: each thinks the other's runs are alive. */
	const nodeA = () => new CheckoutClaims(repo, { id: "node-a|1", isAlive: owner => owner !== "node-a|1" }, 60_000);
	const nodeB = () => new CheckoutClaims(repo, { id: "node-b|1", isAlive: () => true }, 60_000);

	beforeEach(async () => {
		adapter = openAdapter(broker, broker.getLogger("test"), config, "checkout", "requests");
		await connectAdapter(adapter, config, []);
		repo = new Repository<RequestDoc>("requests", adapter);
	});
	afterEach(() => closeAdapter(adapter));

	it("answers busy on another node while the first node holds the cart", async () => {
		const first = await nodeA().claim("u1:cart:3", "u1", CART_CLAIM, "checkout:u1:cart:first");
		expect(first.kind).toBe("claimed");
		expect((await nodeB().claim("u1:cart:3", "u1", CART_CLAIM, "checkout:u1:cart:second")).kind).toBe("busy");
	});

	it("lets any node take an abandoned claim over at once, with the order key of the first attempt", async () => {
		const first = await nodeA().claim("u1:cart:4", "u1", CART_CLAIM, "checkout:u1:cart:first");
		if (first.kind !== "claimed") throw new Error("not claimed");
		await nodeA().abandon(first.doc);
		const retry = await nodeB().claim("u1:cart:4", "u1", CART_CLAIM, "checkout:u1:cart:second");
		expect(retry).toMatchObject({ kind: "claimed", takenOver: true, doc: { order_key: "checkout:u1:cart:first", owner: "node-b|1" } });
	});
});
