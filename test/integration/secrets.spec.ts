import { http, startShop, type Shop } from "../helpers/shop";

describe("secrets in logs and responses", () => {
	const password = "Sup3r-Secret-Passw0rd";
	let shop: Shop;
	const lines: string[] = [];
	const spies: jest.SpyInstance[] = [];

	beforeAll(async () => {
		for (const method of ["log", "info", "warn", "error", "debug"] as const)
			spies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))));
		shop = await startShop(["api", "users"], { LOG_LEVEL: "debug" });
	});
	afterAll(async () => {
		await shop.stop();
		for (const s of spies) s.mockRestore();
	});

	it("never logs or returns a password or its hash, even at debug level", async () => {
		const reg = await http(shop.url, "POST", "/api/v1/users/register", { body: { email: "secret@example.com", password, name: "S" } });
		expect(reg.status).toBe(201);
		const login = await http(shop.url, "POST", "/api/v1/users/login", { body: { email: "secret@example.com", password } });
		const wrong = await http(shop.url, "POST", "/api/v1/users/login", { body: { email: "secret@example.com", password: `${password}x` } });
		const short = await http(shop.url, "POST", "/api/v1/users/register", { body: { email: "s2@example.com", password: "tiny", name: "S" } });
		expect(short.status).toBe(422);
		const responses = JSON.stringify([reg.body, login.body, wrong.body, short.body]);
		expect(responses).not.toContain(password);
		expect(responses).not.toContain("tiny");
		expect(responses).not.toMatch(/scrypt\$/);
		expect(lines.length).toBeGreaterThan(0);
		const logs = lines.join("\n");
		expect(logs).not.toContain(password);
		expect(logs).not.toMatch(/scrypt\$/);
		expect(logs).not.toContain(shop.config.jwtSecret);
	});
});
