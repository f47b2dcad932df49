/**
 * What other services may use of `products`: the rows of `products.getMany`, the product as the API shows it
 * (search renders its results with the same shape), and the demo catalog's stock that inventory seeds.
 */
export type { PricingRow } from "../products.service";
export { DEMO_STOCK } from "./demo-catalog";
export { slugify, toApiProduct, type ApiProduct, type ProductSnapshot } from "./model";
