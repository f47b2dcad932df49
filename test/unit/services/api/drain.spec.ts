import http from "node:http";
import type { AddressInfo } from "node:net";
import { HttpDrain } from "../../../../services/api/drain";

/** A server whose requests to /slow take `slowMs`; refused requests are answered 503 as the gateway does. */
async function serve(drain: HttpDrain, slowMs: number): Promise<{ server: http.Server; port: number }> {
	const server = http.createServer((req, res) => {
		if (!drain.admit(res)) {
			res.writeHead(503, { "Content-Type": "application/json" }).end('{"type":"SHUTTING_DOWN"}');
			return;
		}
		setTimeout(() => res.writeHead(200).end("done"), req.url === "/slow" ? slowMs : 0).unref();
	});
	await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
	return { server, port: (server.address() as AddressInfo).port };
}

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; connection?: string; body: string }> {
	return new Promise((resolve, reject) => {
		http
			.get({ agent, host: "127.0.0.1", port, path }, res => {
				let body = "";
				res.on("data", (c: Buffer) => (body += c.toString()));
				res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
			})
			.on("error", reject);
	});
}

describe("HttpDrain", () => {
	it("finishes the request in progress, refuses the next on an open connection, then stops listening", async () => {
		const drain = new HttpDrain();
		const { server, port } = await serve(drain, 300);
		const agent = new http.Agent({ keepAlive: true });
		await get(agent, port, "/fast"); // a kept-alive connection, idle
		const slow = get(agent, port, "/slow");
		await new Promise(r => setTimeout(r, 50));
		const drained = drain.drain(server, 5_000, 500, 100);
		// On the idle kept-alive connection, during the drain: refused, and told to close.
		const refused = await get(agent, port, "/fast");
		expect(refused).toMatchObject({ status: 503, connection: "close" });
		// The request in progress is answered in full, with its connection closed after it.
		expect(await slow).toMatchObject({ status: 200, connection: "close", body: "done" });
		const result = await drained;
		expect(result).toMatchObject({ unfinished: 0, refused: 1 });
		// No longer listening: a new connection is refused.
		await expect(get(new http.Agent(), port, "/fast")).rejects.toMatchObject({ code: "ECONNREFUSED" });
		agent.destroy();
	});

	it("gives up on a request that outlasts the time and closes its connection", async () => {
		const drain = new HttpDrain();
		const { server, port } = await serve(drain, 2_000);
		const agent = new http.Agent({ keepAlive: true });
		const slow = get(agent, port, "/slow").catch((e: NodeJS.ErrnoException) => e.code);
		await new Promise(r => setTimeout(r, 50));
		const result = await drain.drain(server, 300, 100, 10);
		expect(result.unfinished).toBe(1);
		expect(await slow).toBe("ECONNRESET");
		agent.destroy();
	});
});
