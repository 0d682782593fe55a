// placeholder: replaced by the foundation work (starts the test PostgreSQL)
export default async function globalSetup(): Promise<void> {}
