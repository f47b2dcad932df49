import { normalisePhrase, stem, tokenize } from "../../../../services/search/text";

describe("search text", () => {
	it("lower-cases, drops accents, punctuation and stop words", () => {
		expect(tokenize("The Café's 14\" ThinkPad, for Work!")).toEqual(["cafe", "14", "thinkpad", "work"]);
	});

	it("reduces plurals to a common form", () => {
		expect(["laptops", "batteries", "boxes", "headphones", "glass", "status", "5g"].map(stem)).toEqual([
			"laptop",
			"battery",
			"box",
			"headphone",
			"glass",
			"status",
			"5g",
		]);
	});

	it("normalises phrases for comparison", () => {
		expect(normalisePhrase("  Noise-Cancelling   Headphones ")).toBe("noise cancelling headphone");
	});
});
