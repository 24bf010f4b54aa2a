/**
 * Bytes the server reads from a file on disk at a time: a spooled part read again, a download staged in a temp file,
 * a file a method returns with `downloadFile`, a finished resumable upload.
 *
 * Each read is a round trip through libuv's thread pool, which costs far more than the bytes: reading 512 MiB back
 * from a spool file took 0.75–0.82 s of CPU in the spool's default 16 KiB reads, 0.27 s in 64 KiB reads (the default
 * of `fs.createReadStream`) and 0.08–0.09 s in 256 KiB reads. 256 KiB is also the batch file bytes cross a worker's
 * boundary in, so a read crosses as one message.
 */
export const DISK_READ_BYTES = 256 * 1024
