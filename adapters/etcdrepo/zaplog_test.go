package etcdrepo

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
)

func TestEtcdClientLogsReachSlog(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *zap.Logger)
		want []string // substrings of the output; nil: nothing written
	}{
		{"WarningWithFields", func(l *zap.Logger) { l.Warn("retrying", zap.String("endpoint", "e1"), zap.Int("attempt", 3)) },
			[]string{"level=WARN", `msg=retrying`, "attempt=3", "endpoint=e1", "logger=etcd-client"}},
		{"ErrorLevel", func(l *zap.Logger) { l.Error("lost") }, []string{"level=ERROR", "msg=lost"}},
		{"FieldsOfWithAreKept", func(l *zap.Logger) { l.With(zap.String("stream", "watch")).Info("up") },
			[]string{"level=INFO", "stream=watch", "msg=up"}},
		{"BelowHandlerLevelIsDropped", func(l *zap.Logger) { l.Debug("noise") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(newZapLogger(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
			if tc.want == nil {
				assert.Empty(t, buf.String())
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, buf.String(), w)
			}
		})
	}
}
