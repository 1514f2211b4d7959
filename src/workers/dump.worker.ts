/**
 * Dump worker (module worker): reads a KV-cache dump (File or URL), checks it and transfers its bytes back,
 * so a 400 MB file is read and scanned off the page's thread. The logic is `openDumpCore` in
 * src/widgets/shared/dump-source.ts; this is only the onmessage glue.
 */
import { openDumpCore, type DumpRequest, type DumpResponse } from '../widgets/shared/dump-source';

const post = (m: DumpResponse, transfer?: Transferable[]) => (self as unknown as Worker).postMessage(m, transfer ?? []);
self.onmessage = (e: MessageEvent<DumpRequest>) => void openDumpCore(e.data, post);
