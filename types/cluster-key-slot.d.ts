declare module 'cluster-key-slot' {
  /** Redis Cluster hash slot (CRC16 of the hash tag, mod 16384). */
  export default function calculateSlot(key: string | Buffer): number;
}
