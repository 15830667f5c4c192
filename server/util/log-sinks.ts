/** Sinks that write each record as one line (to stderr unless told otherwise). */
import type { LogRecord, LogSink } from './log';
import { formatJson, formatText } from './log-format';

const toStderr = (line: string): void => void process.stderr.write(line + '\n');

export function textSink(write: (line: string) => void = toStderr, format: (record: LogRecord) => string = formatText): LogSink {
  return (record) => write(format(record));
}

export function jsonSink(write: (line: string) => void = toStderr): LogSink {
  return textSink(write, formatJson);
}
