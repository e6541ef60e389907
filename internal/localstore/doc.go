// Package localstore is the exporter destination that writes traces into a
// local MLflow FileStore folder (./mlruns by default), so `mlflow ui` or
// `mlflow server` started in the folder's parent (MLFLOW_ALLOW_FILE_STORE=true
// on MLflow ≥ 3.13) and MlflowClient(tracking_uri="<abs>/mlruns") show them.
//
// Layout written (MLflow 3.17's FileStore):
//
//	mlruns/.trash/
//	mlruns/<exp>/meta.yaml
//	mlruns/<exp>/traces/<trace id>/trace_info.yaml
//	mlruns/<exp>/traces/<trace id>/request_metadata/<key>   (raw value)
//	mlruns/<exp>/traces/<trace id>/tags/<key>               (raw value)
//	mlruns/<exp>/traces/<trace id>/artifacts/traces.json
//
// A trace directory is filled under a temporary name, renamed into place and
// completed by trace_info.yaml written last through a temporary file and a
// rename: MLflow never lists a partial trace. Experiments are created with
// os.Mkdir as the lock, with an id derived from the name so that several
// processes creating the same experiment agree. Every method is safe for
// concurrent use, also by several processes writing the same folder.
//
// Keys MLflow's FileStore would refuse to read back (characters other than
// letters, digits, '_', '.', '-', ' ', ':' and '/') are skipped, and the
// export reports them in its error after the trace is written.
package localstore
