import { authorName, averageOf, deliveredProducts, requestKey, reviewKey, toApiReview } from "../../../../services/reviews/model";

describe("reviews model", () => {
	it("averages ratings to two decimals, 0 without any", () => {
		expect(averageOf(14, 3)).toBe(4.67);
		expect(averageOf(0, 0)).toBe(0);
	});

	it("keys one review per product and user, one request per user and product", () => {
		expect(reviewKey("p1", "u1")).toBe("p1|u1");
		expect(requestKey("u1", "p1")).toBe("u1|p1");
	});

	it("shows an author name but never an email address", () => {
		expect(authorName("Ann", "ann@example.com")).toBe("Ann");
		expect(authorName("ann@example.com", undefined)).toBe("ann");
		expect(authorName("", "bob@example.com")).toBe("bob");
		expect(authorName(undefined, undefined)).toBe("Customer");
	});

	it("leaves the user id out of the public review", () => {
		const api = toApiReview({
			id: "r1",
			product_id: "p",
			user_id: "u-secret",
			author_name: "Ann",
			rating: 5,
			comment: "Great",
			verified_purchase: true,
			dedupe_key: "p|u-secret",
			created_at: "t",
		});
		expect(JSON.stringify(api)).not.toContain("u-secret");
		expect(api).toMatchObject({ author: "Ann", rating: 5, verified_purchase: true });
	});

	it("takes the distinct products of an order", () => {
		expect(deliveredProducts([{ product_id: "a" }, { product_id: "b" }, { product_id: "a" }, {}])).toEqual(["a", "b"]);
		expect(deliveredProducts(undefined)).toEqual([]);
	});
});
