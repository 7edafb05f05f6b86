/** Injection token of the OnlineStore the feature store serves from. */
export const ONLINE_STORE = Symbol('ONLINE_STORE');
