// The console's live feed: GET /api/v1/admin/ops/stream read with fetch(), so that the admin's token goes in the
// Authorization header (EventSource cannot send one, and a token in a URL would end up in access logs). Server-sent
// event frames are parsed here; the connection is opened again with back-off when it drops.
import { token } from "../lib/api";

export type FeedState = "connecting" | "live" | "reconnecting" | "denied";

export interface FeedHandlers {
	onEvent(name: string, data: unknown): void;
	onState(state: FeedState): void;
}

/** Parses complete frames out of `buffer`; answers what is left (an incomplete frame). */
export function parseFrames(buffer: string, emit: (name: string, data: string) => void): string {
	let rest = buffer.replace(/\r\n/g, "\n");
	let end: number;
	while ((end = rest.indexOf("\n\n")) >= 0) {
		const frame = rest.slice(0, end);
		rest = rest.slice(end + 2);
		let name = "message";
		const data: string[] = [];
		for (const line of frame.split("\n")) {
			if (line.startsWith("event:")) name = line.slice(6).trim();
			else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
		}
		if (data.length > 0) emit(name, data.join("\n"));
	}
	return rest;
}

/** Connects to the feed until the returned function is called. */
export function connectFeed(h: FeedHandlers): () => void {
	let stopped = false;
	let abort: AbortController | null = null;
	const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

	const loop = async (): Promise<void> => {
		let delay = 1000;
		h.onState("connecting");
		while (!stopped) {
			abort = new AbortController();
			try {
				const res = await fetch("/api/v1/admin/ops/stream", {
					headers: { Authorization: `Bearer ${token() ?? ""}`, Accept: "text/event-stream" },
					signal: abort.signal,
					cache: "no-store",
				});
				if (res.status === 401 || res.status === 403) {
					h.onState("denied");
					return;
				}
				if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
				h.onState("live");
				delay = 1000;
				const reader = res.body.getReader();
				const decoder = new TextDecoder();
				let buffer = "";
				for (;;) {
					const { value, done } = await reader.read();
					if (done) break;
					buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), (name, data) => {
						try {
							h.onEvent(name, JSON.parse(data));
						} catch {
							// A frame that is not JSON is not ours.
						}
					});
				}
			} catch {
				// A dropped connection: try again below.
			}
			if (stopped) return;
			h.onState("reconnecting");
			await sleep(delay);
			delay = Math.min(delay * 2, 15_000);
		}
	};
	void loop();
	return () => {
		stopped = true;
		abort?.abort();
	};
}
