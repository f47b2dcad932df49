import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../../config/env";
import { natsConnectOptions } from "../../../config/nats-options";

describe("NATS credentials and TLS from the environment", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-nats-opts-"));
	const ca = path.join(dir, "ca.pem");
	fs.writeFileSync(ca, "not really a certificate");
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
	const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: "test", ...env });

	it("passes user and password, TLS with the CA, and the servers without the scheme", () => {
		const config = load({ NATS_URL: "tls://nats.internal:4443", NATS_USER: "node", NATS_PASSWORD: "pw", NATS_TLS_CA_FILE: ca });
		expect(config.natsAuth).toEqual({ user: "node", password: "pw", token: null, credsFile: null, tls: { caFile: ca, certFile: null, keyFile: null } });
		expect(natsConnectOptions(config.natsUrl as string, config)).toEqual({ servers: ["nats.internal:4443"], user: "node", pass: "pw", tls: { caFile: ca } });
	});

	it("reads credentials from the URL when none are set apart, and turns TLS on for tls://", () => {
		const withPw = load({ NATS_URL: "tls://u:p%40ss@127.0.0.1:4222" });
		expect(natsConnectOptions(withPw.natsUrl as string, withPw)).toEqual({ servers: ["127.0.0.1:4222"], user: "u", pass: "p@ss", tls: {} });
		const withToken = load({ NATS_URL: "nats://s3cr3t@127.0.0.1" });
		expect(natsConnectOptions(withToken.natsUrl as string, withToken)).toEqual({ servers: ["127.0.0.1:4222"], token: "s3cr3t" });
		const plain = load({ NATS_URL: "nats://nats:4222" });
		expect(natsConnectOptions(plain.natsUrl as string, plain)).toEqual({ servers: ["nats:4222"] });
	});

	it("refuses half a login, two logins, missing files and credentials without NATS_URL, naming the variable", () => {
		const url = { NATS_URL: "nats://127.0.0.1:4222" };
		expect(() => load({ ...url, NATS_USER: "u" })).toThrow(/^NATS_PASSWORD: /);
		expect(() => load({ ...url, NATS_PASSWORD: "p" })).toThrow(/^NATS_USER: /);
		expect(() => load({ ...url, NATS_USER: "u", NATS_PASSWORD: "p", NATS_TOKEN: "t" })).toThrow(/^NATS_TOKEN: give one way/);
		expect(() => load({ ...url, NATS_CREDS_FILE: path.join(dir, "missing.creds") })).toThrow(/^NATS_CREDS_FILE: names a file that does not exist/);
		expect(() => load({ ...url, NATS_TLS_CERT_FILE: ca })).toThrow(/^NATS_TLS_KEY_FILE: /);
		expect(() => load({ NATS_TOKEN: "t" })).toThrow(ConfigError);
		expect(() => load({ NATS_TOKEN: "t" })).toThrow(/^NATS_URL: /);
	});
});
