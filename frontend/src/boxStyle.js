/** CSS position of a [x, y, w, h] box given in media pixels, as percentages so it scales with the displayed size. */
export default function boxStyle([x, y, w, h], width, height) {
  return {
    left: `${(x / width) * 100}%`,
    top: `${(y / height) * 100}%`,
    width: `${(w / width) * 100}%`,
    height: `${(h / height) * 100}%`,
  }
}
