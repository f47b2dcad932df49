/**
 * Internal Moleculer broadcasts that make other nodes drop cached reads. They are not domain events: nothing
 * stores, retries or de-duplicates them, so a node that misses one serves what it cached until that expires.
 */

/** After every catalog change: products nodes drop their cached reads, gateways their cached catalog answers. */
export const PRODUCTS_CHANGED_BROADCAST = "cache.clean.products";

/** After a search node's read model changed: gateways drop their cached catalog answers. */
export const SEARCH_CHANGED_BROADCAST = "cache.clean.search";
