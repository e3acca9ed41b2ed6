package cli

// commands is the command registry: one line per subcommand. A new subcommand
// adds its file (options struct, flags, Exec) and one line here.
func commands() []command {
	return []command{
		{"train", "submit one training job", newTrain},
		{"sweep", "submit one training job per grid point or random sample", newSweep},
		{"tune", "submit a SageMaker hyperparameter tuning job", newTune},
		{"status", "show a training or tuning job", newStatus},
		{"wait", "follow a training job until it ends (exit 0 only if Completed)", newWait},
		{"logs", "print a training job's CloudWatch log", newLogs},
		{"download", "fetch a finished job's model and output, extracted safely", newDownload},
		{"stop", "stop a training or tuning job", newStop},
		{"list", "list training jobs, optionally of one sweep", newList},
		{"local", "run the trainer on this machine against an /opt/ml tree", newLocal},
		{"prepare", "turn raw tables into a train/validation/test dataset", newPrepare},
		{"synth", "write a synthetic dataset", newSynth},
		{"cv", "cross-validate the network and baselines by subject on this machine", newCV},
		{"deploy", "put a trained model behind a SageMaker endpoint (create or update)", newDeploy},
		{"predict", "send cases (.json or .csv) to an endpoint and print the answer", newPredict},
		{"explain", "what each prescription row does to a case's predicted blood values, with a local model", newExplain},
		{"undeploy", "delete an endpoint with its configuration and model", newUndeploy},
		{"register", "register a Completed training job's model as a version in a model package group", newRegister},
		{"approve", "approve (or --reject) a registered model version", newApprove},
		{"models", "list a model package group's versions with status and metrics", newModels},
		{"metrics", "print a training job's per-epoch metrics and learning curve (--follow while it runs)", newMetrics},
		{"transform", "score files on S3 with a batch transform job (the image's serve mode)", newTransform},
		{"local-serve", "(also: local serve) serve a model on 127.0.0.1 with the trainer binary or image", newLocalServe},
	}
}

// operands names the positional arguments a subcommand takes, for its usage line.
var operands = map[string]string{
	"status":   "JOB_NAME",
	"wait":     "JOB_NAME",
	"logs":     "JOB_NAME",
	"stop":     "JOB_NAME...",
	"deploy":   "JOB_NAME|s3://.../model.tar.gz (or --package GROUP[/VERSION])",
	"predict":  "ENDPOINT",
	"undeploy": "ENDPOINT",
	"download": "JOB_NAME",
	"register": "JOB_NAME",
	"approve":  "GROUP/VERSION|PACKAGE_ARN",
	"metrics":  "JOB_NAME",
}
