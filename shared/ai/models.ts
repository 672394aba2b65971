/** The model when a request names none. */
export const defaultChatModel = 'gpt-4o-mini';
export const defaultEmbeddingModel = 'text-embedding-3-small';
