/**
 * Consecutive items in chunks of at most `maxBytes` in all (and `maxCount` items), each
 * item weighed by `size`: an SQS batch, a statement's input. An item larger than the
 * budget travels alone, for its receiver to refuse with its own reason.
 */
export function* chunksBySize<Item>(items: readonly Item[], limits: { readonly maxBytes: number; readonly maxCount?: number; readonly size: (item: Item) => number }): Generator<Item[]> {
  let chunk: Item[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = limits.size(item);
    if (chunk.length > 0 && (chunk.length === limits.maxCount || bytes + size > limits.maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
