/** One SQL statement with bound parameters ($1, $2, …): what every SQL builder here returns. */
export type Statement = { text: string; params: unknown[] };
