import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/**
 * A QR code as an SVG image (vector: sharp on paper and on a projector, no canvas). The
 * image's text alternative names what it encodes, for people who cannot scan it.
 */
export function QrCode({ text, label, size }: { text: string; label: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }).then(
      (svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => live && setSrc(null),
    );
    return () => {
      live = false;
    };
  }, [text]);
  if (!src)
    return <span className="qr qr-loading" style={size ? { width: size, height: size } : undefined} />;
  return <img className="qr" src={src} alt={label} width={size} height={size} data-qr-text={text} />;
}
