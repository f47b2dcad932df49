// Packages that ship no typings; ShopFlow uses them through the narrow interfaces in mixins/db.mixin.ts.
declare module "moleculer-db";
