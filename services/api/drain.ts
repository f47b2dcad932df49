/**
 * The gateway's part of a graceful stop (config/boot/shutdown.ts): it answers every new request with 503
 * SHUTTING_DOWN and `Connection: close`, stops listening a moment later, lets the requests it took finish, and
 * closes the connections last. A client therefore sees an answer, or a clean refusal (the 503, or the connection
 * refused), never a connection cut under a request. Idle kept-alive connections are not closed at once, as Node's
 * `server.close()` does: a request sent on one at that moment would meet a reset socket and could not tell whether
 * it was taken. They are closed when their client has been answered `Connection: close`, or after `lingerMs`.
 */
import net from "node:net";
import type { Server, ServerResponse } from "node:http";

export interface DrainResult {
	/** Requests still running when the time was up (their connections were closed under them). */
	unfinished: number;
	/** Requests refused with 503 SHUTTING_DOWN while draining. */
	refused: number;
	ms: number;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export class HttpDrain {
	private readonly active = new Set<ServerResponse>();
	private refusedCount = 0;
	private started = 0;

	/** Whether the gateway is draining (it takes no new request). */
	get draining(): boolean {
		return this.started > 0;
	}

	/**
	 * Counts a request in and returns true; while draining marks its answer `Connection: close` and returns false:
	 * the caller then refuses it with ShuttingDownError.
	 */
	admit(res: ServerResponse): boolean {
		if (this.draining) {
			this.refusedCount++;
			if (!res.headersSent) res.setHeader("Connection", "close");
			return false;
		}
		this.active.add(res);
		res.once("close", () => this.active.delete(res));
		return true;
	}

	/**
	 * Stops listening and waits for the requests in progress (at most `timeoutMs`), then for the clients to take
	 * their `Connection: close` (at most `lingerMs` more), then closes every connection left.
	 */
	async drain(server: Server | null | undefined, timeoutMs: number, lingerMs = 1000, acceptWindowMs = 100): Promise<DrainResult> {
		this.started = Date.now();
		const deadline = this.started + timeoutMs;
		// The answers of the requests in progress end their connections too.
		for (const res of this.active) if (!res.headersSent) res.setHeader("Connection", "close");
		// Connections the kernel has completed but Node has not accepted yet would be reset by closing the listener at
		// once: accept them for a moment (their requests are refused), then stop listening (the next are refused).
		await sleep(acceptWindowMs);
		if (server?.listening) net.Server.prototype.close.call(server);
		while (this.active.size > 0 && Date.now() < deadline) await sleep(20);
		const unfinished = this.active.size;
		const lingerUntil = Math.min(deadline, Date.now() + lingerMs);
		while (server && (await openConnections(server)) > 0 && Date.now() < lingerUntil) await sleep(20);
		server?.closeAllConnections();
		return { unfinished, refused: this.refusedCount, ms: Date.now() - this.started };
	}
}

function openConnections(server: Server): Promise<number> {
	return new Promise(resolve => server.getConnections((err, n) => resolve(err ? 0 : n)));
}
