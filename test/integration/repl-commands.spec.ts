import type { REPLServer } from "node:repl";
import type { ServiceBroker } from "moleculer";
import { replCommands, replOptions } from "../../config/boot/repl-commands";
import { startChaosShop, type ChaosShop } from "../chaos/shop";
import { registerCustomer } from "../helpers/shop";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const REPL = require("moleculer-repl") as (broker: ServiceBroker, opts: typeof replOptions) => REPLServer;

describe("REPL operator commands", () => {
	let shop: ChaosShop;
	let repl: REPLServer;
	let output: string[] = [];
	let write: jest.SpyInstance;

	/** Runs one command line in the real moleculer-repl and answers what it printed. */
	async function run(line: string): Promise<string> {
		output = [];
		await new Promise(resolve => repl.eval(line, repl.context, "repl", resolve));
		return output.join("");
	}

	beforeAll(async () => {
		shop = await startChaosShop({ productCount: 1, stock: 100 });
		write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array): boolean => {
			output.push(String(chunk));
			return true;
		});
		// The same options the broker gets as replOptions, so that `npm run repl` has these commands.
		repl = REPL(shop.broker, replOptions);
		// Closing the REPL would stop the broker and exit the process.
		repl.removeAllListeners("exit");
	});
	afterAll(async () => {
		repl.close();
		write.mockRestore();
		await shop.stop();
	});

	it("lists every command with its help text", async () => {
		const help = await run("help");
		for (const def of replCommands) {
			expect(help).toContain(def.command.split(" ")[0]);
			expect(help).toContain(def.description.slice(0, 30));
		}
	});

	it("runs a checkout for a user with a behavior, then shows the order, its saga log and its trace", async () => {
		const user = await registerCustomer(shop.url);
		const out = await run(`checkout ${user.id} --product ${shop.products[0]} --behavior inventory:latency=20ms`);
		expect(out).toMatch(/order \S+: (SHIPPED|DELIVERED)/);
		expect(out).toContain("inventory.reserve");
		const orderId = /order (\S+):/.exec(out)?.[1] ?? "";
		const traceId = /trace (\S+)/.exec(out)?.[1] ?? "";

		expect(await run(`saga ${orderId}`)).toContain(orderId);
		expect(await run("orders")).toContain(orderId);
		expect(await run(`rebuild ${orderId}`)).toContain("1 order(s) checked: 0 difference(s)");
		expect(await run("rebuild")).toMatch(/[1-9]\d* order\(s\) checked: 0 difference\(s\)/);
		expect(await run("rebuild ord_nope")).toContain("404");
		const trace = await run(`trace ${traceId}`);
		expect(trace).toContain("checkout.start");
		expect(trace).toMatch(/latency 20ms/);
	});

	it("lists orders by status", async () => {
		const user = await registerCustomer(shop.url);
		await run(`checkout ${user.id} --product ${shop.products[0]} --payment card-declined`);
		const failed = await run("orders failed");
		expect(failed).toContain("PAYMENT_ERROR");
		expect(failed).not.toContain("SHIPPED");
	});

	it("shows breaker states and dead letters", async () => {
		expect(await run("breakers")).toMatch(/payment gateway breaker: (closed|CLOSED|open|half)/i);
		expect(await run("deadletters")).toMatch(/dead letter\(s\)/);
		expect(await run("redrive dl_nobody_0123456789abcdef")).toMatch(/no running service holds/);
	});

	it("lists shops with their status, shows one, approves and suspends it", async () => {
		const seller = await registerCustomer(shop.url);
		const name = `Repl Shop ${Math.random().toString(36).slice(2, 8)}`;
		const opened = (await shop.broker.call("shops.create", { name, description: "opened for the REPL test" }, { meta: { user: { id: seller.id, email: seller.email, name: "Seller", role: "customer" } } })) as { id: string };

		const pending = await run("shops pending");
		expect(pending).toMatch(new RegExp(`${opened.id}\\s.*${name}.*PENDING.*${seller.id}`));
		expect(pending).not.toContain("ACTIVE");
		expect(await run("shops active")).not.toContain(opened.id);
		expect(await run(`shop ${opened.id}`)).toContain("opened for the REPL test");

		expect(await run(`shop ${opened.id} approve`)).toMatch(/ACTIVE/);
		expect(await run("shops active")).toContain(opened.id);
		expect(await run(`shop ${opened.id} suspend`)).toMatch(/SUSPENDED/);
		expect(await run("shops suspended")).toContain(opened.id);
		expect(await run("shops")).toMatch(/\d+ shop\(s\)/);
		expect(await run(`shop ${opened.id} delete`)).toMatch(/unknown action 'delete'/);
		expect(await run("shop no-such-shop")).toMatch(/404/);
	});

	it("parses a behavior string and names a bad token", async () => {
		expect(await run("behavior payment:error=503:0.5")).toContain('"probability": 0.5');
		expect(await run("behavior payment:error=5")).toMatch(/behavior token "payment:error=5"/);
	});
});
