/**
 * The demo catalog loaded on first start (SEED_DEMO_DATA): categories, products and their stock over three
 * warehouses. Both `products` and `inventory` read it, each seeding its own store with fixed ids, so several
 * nodes starting at once never seed twice. Pure data.
 */
import type { CategoryDoc } from "./model";

/** The demo shop that sells each demo category (the shops are seeded by `shops`, their owners by `users`). */
export const DEMO_SHOP_OF_CATEGORY: Record<string, string> = {
	laptops: "compute-corner",
	monitors: "compute-corner",
	accessories: "compute-corner",
	smartphones: "sound-vision",
	audio: "sound-vision",
	cameras: "sound-vision",
	"smart-home": "home-play",
	gaming: "home-play",
};

export interface DemoProduct {
	id: string;
	name: string;
	brand: string;
	category: string;
	/** Decimal units (USD). */
	price: number;
	description: string;
	tags: string[];
}

export interface DemoStock {
	product_id: string;
	warehouse_id: string;
	on_hand: number;
}

export const DEMO_CURRENCY = "USD";
export const DEMO_WAREHOUSES = ["wh-east", "wh-west", "wh-central"] as const;

export const DEMO_CATEGORIES: CategoryDoc[] = [
	{ id: "laptops", name: "Laptops" },
	{ id: "smartphones", name: "Smartphones" },
	{ id: "audio", name: "Audio" },
	{ id: "monitors", name: "Monitors" },
	{ id: "accessories", name: "Accessories" },
	{ id: "smart-home", name: "Smart Home" },
	{ id: "cameras", name: "Cameras" },
	{ id: "gaming", name: "Gaming" },
];

const p = (id: string, name: string, brand: string, category: string, price: number, description: string, tags: string[]): DemoProduct => ({
	id,
	name,
	brand,
	category,
	price,
	description,
	tags,
});

export const DEMO_PRODUCTS: DemoProduct[] = [
	// laptops
	p("laptop-123", "IdeaPad Slim 5 14\" Laptop", "Lenovo", "laptops", 899.99, "A light 14-inch laptop with a Ryzen 7 processor, 16 GB of RAM, a 512 GB SSD and all-day battery life.", ["ultrabook", "ryzen"]),
	p("thinkpad-x1-carbon", "ThinkPad X1 Carbon Gen 12 Laptop", "Lenovo", "laptops", 1649.0, "Business laptop with a carbon-fibre chassis, Intel Core Ultra 7, 32 GB RAM and a 2.8K OLED display.", ["business", "oled"]),
	p("dell-xps-13", "XPS 13 Laptop", "Dell", "laptops", 1299.0, "Compact 13.4-inch laptop with an edge-to-edge display, Intel Core Ultra 5 and 16 GB of memory.", ["ultrabook"]),
	p("dell-inspiron-15", "Inspiron 15 Laptop", "Dell", "laptops", 649.99, "Everyday 15.6-inch laptop for school and home, with a full-size keyboard and a fast SSD.", ["budget", "student"]),
	p("macbook-air-13", "MacBook Air 13\" M3", "Apple", "laptops", 1099.0, "Fanless 13-inch laptop with the M3 chip, 8 GB unified memory and up to 18 hours of battery.", ["macos"]),
	p("macbook-pro-14", "MacBook Pro 14\" M4 Pro", "Apple", "laptops", 1999.0, "Pro laptop with the M4 Pro chip, a Liquid Retina XDR display and a 24 GB memory configuration.", ["macos", "creator"]),
	p("asus-zenbook-14", "Zenbook 14 OLED Laptop", "Asus", "laptops", 949.0, "Slim 14-inch laptop with a 3K OLED screen, Intel Core Ultra 7 and a 75 Wh battery.", ["oled", "ultrabook"]),
	p("asus-rog-zephyrus-g14", "ROG Zephyrus G14 Gaming Laptop", "Asus", "laptops", 1799.99, "Portable gaming laptop with an RTX 4070 graphics card, a 120 Hz OLED panel and a Ryzen 9 processor.", ["gaming", "rtx"]),
	// smartphones
	p("iphone-16", "iPhone 16 128 GB", "Apple", "smartphones", 799.0, "6.1-inch smartphone with the A18 chip, a 48 MP Fusion camera and the new Camera Control button.", ["ios", "5g"]),
	p("iphone-16-pro", "iPhone 16 Pro 256 GB", "Apple", "smartphones", 1099.0, "Titanium smartphone with a 6.3-inch ProMotion display, a 5x telephoto camera and 4K120 video.", ["ios", "5g"]),
	p("galaxy-s24", "Galaxy S24 128 GB", "Samsung", "smartphones", 799.99, "6.2-inch Android phone with a Dynamic AMOLED 2X display, Galaxy AI features and a triple camera.", ["android", "5g"]),
	p("galaxy-a55", "Galaxy A55 5G", "Samsung", "smartphones", 449.99, "Mid-range Android phone with a 6.6-inch 120 Hz screen, a 50 MP camera and two days of battery.", ["android", "5g", "budget"]),
	p("pixel-9", "Pixel 9 128 GB", "Google", "smartphones", 799.0, "Android phone with the Tensor G4 chip, a 50 MP main camera and seven years of updates.", ["android", "5g"]),
	p("pixel-8a", "Pixel 8a", "Google", "smartphones", 499.0, "Compact Android phone with a 6.1-inch Actua display, Tensor G3 and an excellent night camera.", ["android", "budget"]),
	// audio
	p("sony-wh-1000xm5", "WH-1000XM5 Wireless Headphones", "Sony", "audio", 399.99, "Over-ear noise-cancelling headphones with 30 hours of battery and eight microphones for clear calls.", ["noise-cancelling", "bluetooth"]),
	p("sony-wf-1000xm5", "WF-1000XM5 Earbuds", "Sony", "audio", 299.99, "True wireless earbuds with industry-leading noise cancelling and high-resolution audio.", ["noise-cancelling", "earbuds"]),
	p("bose-qc-ultra", "QuietComfort Ultra Headphones", "Bose", "audio", 429.0, "Premium noise-cancelling headphones with immersive spatial audio and plush ear cushions.", ["noise-cancelling", "bluetooth"]),
	p("bose-soundlink-flex", "SoundLink Flex Bluetooth Speaker", "Bose", "audio", 149.0, "Rugged, waterproof portable speaker with deep sound and 12 hours of playtime.", ["speaker", "waterproof"]),
	p("airpods-pro-2", "AirPods Pro (2nd generation)", "Apple", "audio", 249.0, "Wireless earbuds with active noise cancellation, adaptive audio and a USB-C MagSafe case.", ["earbuds", "ios"]),
	p("jbl-charge-5", "Charge 5 Portable Speaker", "JBL", "audio", 179.95, "Portable waterproof speaker with bold bass, 20 hours of play and a built-in power bank.", ["speaker", "waterproof"]),
	// monitors
	p("dell-u2724d", "UltraSharp 27 QHD Monitor U2724D", "Dell", "monitors", 429.99, "27-inch QHD IPS Black monitor with 120 Hz refresh, factory colour calibration and a USB hub.", ["qhd", "office"]),
	p("lg-27gp850", "UltraGear 27\" Nano IPS Gaming Monitor", "LG", "monitors", 379.99, "27-inch 1440p monitor with a 180 Hz refresh rate, 1 ms response and G-Sync compatibility.", ["gaming", "qhd"]),
	p("lg-32un880", "Ergo 32\" 4K UHD Monitor", "LG", "monitors", 599.99, "32-inch 4K monitor on a clamp-mounted ergonomic arm, with USB-C power delivery.", ["4k", "usb-c"]),
	p("samsung-odyssey-g7", "Odyssey G7 32\" Curved Monitor", "Samsung", "monitors", 549.99, "32-inch 1000R curved gaming monitor with QHD resolution and a 240 Hz refresh rate.", ["gaming", "curved"]),
	p("asus-proart-pa278", "ProArt Display PA278CV", "Asus", "monitors", 329.0, "27-inch WQHD monitor for creators, Calman verified, with 100% sRGB coverage.", ["creator", "qhd"]),
	// accessories
	p("logitech-mx-master-3s", "MX Master 3S Wireless Mouse", "Logitech", "accessories", 99.99, "Ergonomic wireless mouse with quiet clicks, an 8K DPI sensor and MagSpeed scrolling.", ["mouse", "wireless"]),
	p("logitech-mx-keys-s", "MX Keys S Wireless Keyboard", "Logitech", "accessories", 109.99, "Low-profile illuminated keyboard with smart backlighting and multi-device switching.", ["keyboard", "wireless"]),
	p("anker-usb-c-hub-7in1", "7-in-1 USB-C Hub", "Anker", "accessories", 39.99, "Aluminium hub with 4K HDMI, 100 W pass-through charging, SD card readers and two USB-A ports.", ["usb-c", "hub"]),
	p("anker-737-power-bank", "737 Power Bank 24,000 mAh", "Anker", "accessories", 109.99, "High-capacity power bank with 140 W output and a smart display showing charge status.", ["charging", "travel"]),
	p("anker-nano-charger-65w", "Nano 65 W USB-C Charger", "Anker", "accessories", 45.99, "Compact GaN wall charger that powers a tablet, phone and earbuds from one plug.", ["charging", "usb-c"]),
	p("samsung-t7-ssd-1tb", "T7 Portable SSD 1 TB", "Samsung", "accessories", 89.99, "Pocket-sized external SSD with read speeds up to 1,050 MB/s and a USB 3.2 Gen 2 interface.", ["storage", "usb-c"]),
	// smart home
	p("google-nest-hub-2", "Nest Hub (2nd gen)", "Google", "smart-home", 99.99, "Smart display with Google Assistant for controlling lights, showing photos and sleep sensing.", ["assistant", "display"]),
	p("google-nest-thermostat", "Nest Learning Thermostat (4th gen)", "Google", "smart-home", 279.99, "Smart thermostat that learns your schedule and helps save energy on heating and cooling.", ["energy", "climate"]),
	p("philips-hue-starter-kit", "Hue White and Color Starter Kit", "Philips", "smart-home", 199.99, "Three colour smart bulbs and a Bridge, controllable by app, voice or schedule.", ["lighting", "zigbee"]),
	p("philips-hue-lightstrip", "Hue Lightstrip Plus 2 m", "Philips", "smart-home", 89.99, "Flexible colour light strip for shelves and TV backlighting, extendable to 10 metres.", ["lighting"]),
	p("ring-video-doorbell-4", "Video Doorbell 4", "Ring", "smart-home", 219.99, "1080p video doorbell with colour pre-roll, two-way talk and motion alerts on your phone.", ["security", "video"]),
	p("ring-indoor-cam", "Indoor Cam (2nd gen)", "Ring", "smart-home", 59.99, "Compact plug-in security camera with a manual privacy cover and night vision.", ["security", "video"]),
	// cameras
	p("sony-a7-iv", "Alpha 7 IV Mirrorless Camera Body", "Sony", "cameras", 2499.99, "33 MP full-frame mirrorless camera with real-time eye autofocus and 4K 60p video.", ["mirrorless", "full-frame"]),
	p("sony-zv-e10", "ZV-E10 Vlog Camera with 16-50 mm Lens", "Sony", "cameras", 749.99, "Interchangeable-lens camera for creators with a flip screen and product showcase mode.", ["vlog", "mirrorless"]),
	p("canon-eos-r6-ii", "EOS R6 Mark II Body", "Canon", "cameras", 2299.0, "24 MP full-frame mirrorless camera with 40 fps bursts and in-body image stabilisation.", ["mirrorless", "full-frame"]),
	p("canon-eos-r50", "EOS R50 with RF-S 18-45 mm Lens", "Canon", "cameras", 679.99, "Lightweight mirrorless camera with 4K video and automatic scene detection, ideal for beginners.", ["mirrorless", "beginner"]),
	p("gopro-hero-12", "HERO12 Black Action Camera", "GoPro", "cameras", 349.99, "Waterproof action camera with 5.3K video, HyperSmooth 6.0 stabilisation and HDR photos.", ["action", "waterproof"]),
	// gaming
	p("ps5-slim", "PlayStation 5 Slim Console", "Sony", "gaming", 499.99, "Slim console with a 1 TB SSD, a DualSense controller and support for 4K gaming at up to 120 fps.", ["console"]),
	p("xbox-series-x", "Xbox Series X 1 TB", "Microsoft", "gaming", 499.99, "The fastest Xbox, with 12 teraflops of power, quick resume and 4K gaming.", ["console"]),
	p("xbox-wireless-controller", "Xbox Wireless Controller", "Microsoft", "gaming", 59.99, "Controller with textured grips, a share button and Bluetooth for PC and mobile play.", ["controller"]),
	p("logitech-g-pro-x-superlight-2", "PRO X Superlight 2 Gaming Mouse", "Logitech", "gaming", 159.0, "60 g wireless esports mouse with the HERO 2 sensor and 95 hours of battery.", ["mouse", "esports"]),
	p("steelseries-arctis-nova-7", "Arctis Nova 7 Wireless Headset", "SteelSeries", "gaming", 179.99, "Multi-platform wireless gaming headset with a retractable microphone and 38-hour battery.", ["headset", "wireless"]),
];

/** A fixed, varied quantity per product and warehouse (0 to 60), so demo stock looks real but is reproducible. */
function demoQuantity(productIndex: number, warehouseIndex: number): number {
	const n = ((productIndex + 3) * 37 + (warehouseIndex + 1) * 53) % 61;
	return n < 4 ? 0 : n;
}

/** Stock rows of the demo catalog: every product in at least two warehouses. */
export const DEMO_STOCK: DemoStock[] = DEMO_PRODUCTS.flatMap((product, i) =>
	DEMO_WAREHOUSES.filter((_, w) => (i + w) % 3 !== 2 || i % 4 === 0).map((warehouse_id, w) => ({
		product_id: product.id,
		warehouse_id,
		on_hand: product.id === "laptop-123" ? 25 + w * 10 : demoQuantity(i, w),
	})),
);
