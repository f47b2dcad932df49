/**
 * The demo marketplace (SEED_DEMO_DATA): three seller accounts and their shops, over which the demo catalog is
 * spread by category (services/products/demo-catalog.ts names the shop of each category). Pure data.
 */
export interface DemoSeller {
	/** Fixed user id, so that users, shops and products seed independently and still agree. */
	user_id: string;
	email: string;
	name: string;
	password: string;
	shop: { id: string; name: string; description: string };
}

/** The password of every demo seller account (development data, documented in the README). */
export const DEMO_SELLER_PASSWORD = "seller-password";

export const DEMO_SELLERS: DemoSeller[] = [
	{
		user_id: "user-seller-compute",
		email: "compute@shopflow.local",
		name: "Compute Corner",
		password: DEMO_SELLER_PASSWORD,
		shop: { id: "compute-corner", name: "Compute Corner", description: "Laptops, monitors and the accessories around them." },
	},
	{
		user_id: "user-seller-sound",
		email: "sound@shopflow.local",
		name: "Sound & Vision",
		password: DEMO_SELLER_PASSWORD,
		shop: { id: "sound-vision", name: "Sound & Vision", description: "Phones, headphones, speakers and cameras." },
	},
	{
		user_id: "user-seller-home",
		email: "home@shopflow.local",
		name: "Home & Play",
		password: DEMO_SELLER_PASSWORD,
		shop: { id: "home-play", name: "Home & Play", description: "Smart home devices and gaming." },
	},
];
