import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "../../tools/http-client";

/**
 * A server that answers the first request of each connection and drops the connection on the second one without
 * answering: what a client sees when the server's keep-alive timeout closes a socket as the client reuses it.
 */
async function droppingServer(): Promise<{ url: string; served: string[]; close(): Promise<void> }> {
	const served: string[] = [];
	const perSocket = new WeakMap<object, number>();
	const server = http.createServer((req, res) => {
		const n = (perSocket.get(req.socket) ?? 0) + 1;
		perSocket.set(req.socket, n);
		if (n > 1) {
			req.socket.destroy();
			return;
		}
		served.push(`${req.method} ${req.url}`);
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify({ ok: true }));
	});
	await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return { url, served, close: () => new Promise(r => server.close(() => r())) };
}

describe("the tools' HTTP client", () => {
	it("sends a read again on a new socket when the kept-alive one was closed under it", async () => {
		const s = await droppingServer();
		try {
			expect((await request(s.url, "GET", "/one")).status).toBe(200);
			expect((await request(s.url, "GET", "/two")).status).toBe(200);
			expect(s.served).toEqual(["GET /one", "GET /two"]);
		} finally {
			await s.close();
		}
	});

	it("never sends a write twice: the error reaches the caller", async () => {
		const s = await droppingServer();
		try {
			expect((await request(s.url, "GET", "/warm")).status).toBe(200);
			await expect(request(s.url, "POST", "/checkout", { body: {} })).rejects.toThrow(/socket hang up|ECONNRESET/);
			expect(s.served).toEqual(["GET /warm"]);
		} finally {
			await s.close();
		}
	});
});
