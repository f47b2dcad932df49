import net from "node:net";
import type { AddressInfo } from "node:net";
import { batchClientSocketWrites } from "../../../../config/boot/socket-batching";

/** A TCP server that records what each connection sent, chunk by chunk. */
async function recordingServer(): Promise<{ port: number; chunks: string[][]; close(): Promise<void> }> {
	const chunks: string[][] = [];
	const sockets = new Set<net.Socket>();
	const server = net.createServer(s => {
		const mine: string[] = [];
		chunks.push(mine);
		sockets.add(s);
		s.on("data", d => mine.push(d.toString()));
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	return {
		port: (server.address() as AddressInfo).port,
		chunks,
		close: () => {
			for (const s of sockets) s.destroy();
			return new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}

const nextTurn = () => new Promise<void>(resolve => setImmediate(resolve));
const connected = (port: number) =>
	new Promise<net.Socket>((resolve, reject) => {
		const s = net.connect(port, "127.0.0.1", () => resolve(s));
		s.once("error", reject);
	});
const until = async (cond: () => boolean) => {
	for (let i = 0; i < 200 && !cond(); i++) await new Promise(r => setTimeout(r, 5));
};

describe("batched client socket writes", () => {
	let server: Awaited<ReturnType<typeof recordingServer>>;
	beforeAll(() => batchClientSocketWrites());
	beforeEach(async () => (server = await recordingServer()));
	afterEach(() => server.close());

	it("holds the writes of one event-loop turn, microtasks included, and sends them in one chunk when the turn ends", async () => {
		const socket = await connected(server.port);
		socket.write("a");
		expect(socket.writableCorked).toBe(1);
		await Promise.resolve();
		socket.write("b");
		await Promise.resolve();
		socket.write("c");
		expect(socket.writableCorked).toBe(1);
		expect(socket.writableLength).toBe(3);
		await nextTurn();
		expect(socket.writableCorked).toBe(0);
		await until(() => server.chunks[0]?.join("") === "abc");
		expect(server.chunks[0]).toEqual(["abc"]);
		socket.destroy();
	});

	it("delivers many writes over many turns complete and in order", async () => {
		const socket = await connected(server.port);
		let expected = "";
		for (let turn = 0; turn < 50; turn++) {
			for (let i = 0; i < 40; i++) {
				const line = `${turn}:${i};`;
				expected += line;
				socket.write(line);
			}
			if (turn % 2) await nextTurn();
			else await Promise.resolve();
		}
		await until(() => server.chunks[0]?.join("").length === expected.length);
		expect(server.chunks[0].join("")).toBe(expected);
		// Fewer chunks than turns: each turn's writes went out together.
		expect(server.chunks[0].length).toBeLessThanOrEqual(50);
		socket.destroy();
	});

	it("sends held writes when the socket is ended within the same turn", async () => {
		const socket = await connected(server.port);
		socket.write("last words");
		socket.end();
		await until(() => server.chunks[0]?.join("") === "last words");
		expect(server.chunks[0].join("")).toBe("last words");
	});

	it("leaves a socket alone until it writes", async () => {
		const socket = await connected(server.port);
		expect(socket.writableCorked).toBe(0);
		socket.destroy();
	});
});
