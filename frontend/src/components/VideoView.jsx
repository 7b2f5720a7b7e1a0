import { useCallback, useEffect, useRef, useState } from 'react'
import { formatClock } from '../api.js'
import { facesAt, nearestSampleTime, sameFrame } from '../timeline.js'
import FaceBoxes from './FaceBoxes.jsx'
import HeatmapCaption from './HeatmapCaption.jsx'
import HeatmapImage from './HeatmapImage.jsx'
import TimelineChart from './TimelineChart.jsx'
import TrackList from './TrackList.jsx'

function describeClip(video, decoded) {
  if (!video) return ''
  const bits = [
    video.duration_s != null && `${video.duration_s.toFixed(1)} s`,
    decoded?.partial && `only ${decoded.seconds.toFixed(1)} s decoded`,
    video.width && video.height && `${video.width}×${video.height}`,
    video.codec,
    video.frames_sampled != null && `${video.frames_sampled} frames sampled`,
  ]
  return bits.filter(Boolean).join(' · ')
}

/**
 * The chosen clip in a player; after analysis, the faces of the sampled frame nearest to the playhead drawn over it,
 * the P(fake) timeline (over the part of the clip that could be decoded) and one thumbnail per face track. Points and
 * thumbnails seek the player.
 */
export default function VideoView({ src, fileName, result, showHeatmap = false, onDuration }) {
  const videoRef = useRef(null)
  const [time, setTime] = useState(0)
  const [brokenSrc, setBrokenSrc] = useState(null)
  const broken = brokenSrc === src
  const width = result?.video?.width || result?.image?.width
  const height = result?.video?.height || result?.image?.height
  const canDraw = Boolean(result && width && height)
  const sample = nearestSampleTime(result, time)
  const explanation = result?.explanation
  const heatmapHere = showHeatmap && sameFrame(explanation?.t, sample)

  const seek = useCallback((seconds) => {
    if (videoRef.current) videoRef.current.currentTime = seconds
    setTime(seconds)
  }, [])

  // The map explains one frame: go there when it is switched on.
  useEffect(() => {
    if (showHeatmap && explanation?.t != null) seek(explanation.t)
  }, [showHeatmap, explanation?.t, seek])

  const follow = (e) => setTime(e.currentTarget.currentTime)
  return (
    <div className="clip">
      <figure className="preview">
        {broken ? (
          <div className="preview__broken">
            <p>The browser can't play this clip here (its format or codec), but it can still be analysed.</p>
          </div>
        ) : (
          <div className="preview__frame">
            <video
              ref={videoRef}
              className="preview__image preview__video"
              src={src}
              controls
              preload="metadata"
              aria-label={`Clip ${fileName}`}
              onTimeUpdate={follow}
              onSeeked={follow}
              onLoadedMetadata={(e) => onDuration?.(e.currentTarget.duration)}
              onError={() => setBrokenSrc(src)}
            />
            {canDraw && heatmapHere && <HeatmapImage result={result} width={width} height={height} />}
            {canDraw && (
              <FaceBoxes faces={facesAt(result, sample)} width={width} height={height} threshold={result.threshold}
                label="Faces in this frame" />
            )}
          </div>
        )}
        {showHeatmap && explanation && (
          <HeatmapCaption result={result} where={explanation.t != null ? ` (frame at ${formatClock(explanation.t)})` : ''} />
        )}
        <figcaption className="preview__caption">
          {fileName}
          {result?.video && ` · ${describeClip(result.video, result.decoded)}`}
        </figcaption>
      </figure>
      {result && (
        <TimelineChart
          timeline={result.timeline}
          duration={result.decoded?.partial ? result.decoded.seconds : result.video?.duration_s}
          threshold={result.threshold ?? 0.5}
          currentTime={time}
          currentSample={sample}
          onSeek={seek}
        />
      )}
      {result && <TrackList tracks={result.tracks} threshold={result.threshold} onSeek={seek} />}
    </div>
  )
}
