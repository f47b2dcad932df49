/**
 * One system call per event-loop turn for each outgoing TCP connection opened with `net.connect` (NATS, Redis
 * and MongoDB without TLS, and HTTP clients), instead of one per message. `tls.connect` does not report its
 * sockets on the channel used here, so TLS connections are left as they are.
 *
 * nats.js flushes its buffer in a microtask and ioredis writes every command as it is issued, so a node under
 * load wrote to its NATS and Redis sockets many times per turn; on loopback each write also runs the receiver's
 * side of TCP, and those writes were 20–37% of every cluster node's CPU time. Corking a socket at its first
 * write of a turn and uncorking it in `setImmediate` sends everything that turn produced in one `writev`: the
 * cluster's CPU per order fell by about a fifth and its checkout throughput rose by about a third (docs/benchmarks.md,
 * "Measured"). A write waits at most until the end of the current turn.
 */
import diagnostics from "node:diagnostics_channel";
import type { Socket } from "node:net";
// Node's own timer, not a test runner's fake one: a held socket must always be released.
import { setImmediate } from "node:timers";

// Marks shared by every copy of this module in the process (test runners load one per test file), so that a
// socket is wrapped once and the channel subscribed once.
const BATCHED = Symbol.for("shopflow.socket-batching.socket");
const INSTALLED = Symbol.for("shopflow.socket-batching.installed");
type Marked = { [BATCHED]?: true; [INSTALLED]?: true };

/** Holds a socket's writes of the current event-loop turn and sends them together when the turn ends. */
export function batchWrites(socket: Socket): void {
	if ((socket as Marked)[BATCHED]) return;
	(socket as Marked)[BATCHED] = true;
	const write = socket.write;
	let held = false;
	// uncork is a no-op on a stream that end() or destroy() has already flushed.
	const release = (): void => {
		held = false;
		socket.uncork();
	};
	socket.write = function (this: Socket, ...args: unknown[]): boolean {
		if (!held) {
			held = true;
			socket.cork();
			setImmediate(release);
		}
		return (write as (...a: unknown[]) => boolean).apply(this, args);
	} as Socket["write"];
}

/** Batches the writes of every TCP client socket this process opens from now on (idempotent). */
export function batchClientSocketWrites(): void {
	const channel = diagnostics.channel("net.client.socket");
	if ((channel as Marked)[INSTALLED]) return;
	(channel as Marked)[INSTALLED] = true;
	channel.subscribe(message => {
		const { socket } = message as { socket: Socket };
		// The channel reports the socket just before `connect()`, which resets an own `write` property; the
		// client's first writes come after the connection is made.
		queueMicrotask(() => batchWrites(socket));
	});
}
